package vm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostLayout creates files and symlinks under a temporary root, shaped like
// Debian's merged /usr and alternatives, and returns the root.
func hostLayout(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mk := func(p, data string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(p, target string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(strings.ReplaceAll(target, "$R", root), full); err != nil {
			t.Fatal(err)
		}
	}
	mk("usr/lib/libx.so.1", "libx")
	link("lib", "usr/lib")
	mk("usr/sbin/tool-multi", "tool")
	link("usr/sbin/tool-nft", "tool-multi")
	link("etc/alternatives/tool", "$R/usr/sbin/tool-nft")
	link("usr/sbin/tool", "$R/etc/alternatives/tool")
	mk("usr/lib/plugins/a.so", "a")
	link("usr/lib/plugins/b.so", "a.so")
	link("usr/lib/plugins/gone.so", "missing.so")
	link("usr/lib/plugins/outside.so", "../libx.so.1")
	link("loop1", "loop2")
	link("loop2", "loop1")
	return root
}

func TestTreeAddHostPath(t *testing.T) {
	root := hostLayout(t)
	tree := NewTree()
	for _, p := range []string{"lib/libx.so.1", "usr/sbin/tool", "lib/plugins"} {
		if err := tree.AddHostPath(filepath.Join(root, p)); err != nil {
			t.Fatalf("AddHostPath(%s): %v", p, err)
		}
	}
	want := `$R/etc/alternatives/tool symlink $R/usr/sbin/tool-nft
$R/lib symlink usr/lib
$R/usr/lib/libx.so.1 file 755 host:$R/usr/lib/libx.so.1
$R/usr/lib/plugins dir 755
$R/usr/lib/plugins/a.so file 755 host:$R/usr/lib/plugins/a.so
$R/usr/lib/plugins/b.so symlink a.so
$R/usr/lib/plugins/gone.so symlink missing.so
$R/usr/lib/plugins/outside.so symlink ../libx.so.1
$R/usr/sbin/tool symlink $R/etc/alternatives/tool
$R/usr/sbin/tool-multi file 755 host:$R/usr/sbin/tool-multi
$R/usr/sbin/tool-nft symlink tool-multi
`
	if got := strings.ReplaceAll(tree.String(), root, "$R"); got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
}

func TestTreeAddHostPathErrors(t *testing.T) {
	root := hostLayout(t)
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(root, "nope"), "no such file"},
		{"relative", "usr/lib", "not an absolute path"},
		{"symlink loop", filepath.Join(root, "loop1"), "too many levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewTree().AddHostPath(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AddHostPath(%s) error %v, want %q", tt.path, err, tt.want)
			}
		})
	}
}

func TestTreeAddConflicts(t *testing.T) {
	tree := NewTree()
	if err := tree.AddSymlink("/lib", "usr/lib"); err != nil {
		t.Fatal(err)
	}
	if err := tree.AddData("/lib/x", 0o644, nil); err == nil || !strings.Contains(err.Error(), "parent /lib is not a directory") {
		t.Errorf("file below a symlink: error %v", err)
	}
	if err := tree.AddDir("/lib", 0o755); err == nil || !strings.Contains(err.Error(), "another file type") {
		t.Errorf("dir over a symlink: error %v", err)
	}
	if err := tree.AddSymlink("/lib", "usr/lib"); err != nil {
		t.Errorf("same symlink twice: %v", err)
	}
	if err := tree.AddDir("/", 0o755); err == nil {
		t.Error("adding / succeeded")
	}
}

func TestTreeWriteCPIO(t *testing.T) {
	host := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(host, []byte("from host"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := NewTree()
	steps := []error{
		tree.AddCharDev("/dev/console", 0o600, 5, 1),
		tree.AddData("/netsteer/job.json", 0o644, []byte("{}")),
		tree.AddHostFileAs("/init", host, 0o755),
		tree.AddDir("/var/run/netns", 0o700),
		tree.AddSymlink("/lib64", "usr/lib64"),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	var buf bytes.Buffer
	if err := tree.WriteCPIO(&buf); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`dev mode=40755 rdev=0,0 data=""`,
		`dev/console mode=20600 rdev=5,1 data=""`,
		`init mode=100755 rdev=0,0 data="from host"`,
		`lib64 mode=120777 rdev=0,0 data="usr/lib64"`,
		`netsteer mode=40755 rdev=0,0 data=""`,
		`netsteer/job.json mode=100644 rdev=0,0 data="{}"`,
		`var mode=40755 rdev=0,0 data=""`,
		`var/run mode=40755 rdev=0,0 data=""`,
		`var/run/netns mode=40700 rdev=0,0 data=""`,
	}
	if got := readCPIO(t, buf.Bytes()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !tree.HasUnder("/var/run") || tree.HasUnder("/var/run/netns") || !tree.Has("/init") {
		t.Error("Has/HasUnder disagree with the entries added")
	}
}
