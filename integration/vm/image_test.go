package vm

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jobIn decodes the job stored in a tree.
func jobIn(t *testing.T, tree *Tree) Job {
	t.Helper()
	e, ok := tree.entries[guestJobPath]
	if !ok {
		t.Fatalf("no %s in tree", guestJobPath)
	}
	var job Job
	if err := json.Unmarshal(e.data, &job); err != nil {
		t.Fatal(err)
	}
	return job
}

func TestAddJobTmpfs(t *testing.T) {
	tests := []struct {
		name      string
		extra     string // a file mirrored into the guest
		wantTmpfs []string
	}{
		{"nothing below /tmp or /run", "/work/pkg.test", []string{"/tmp", "/run"}},
		{"test binary under /tmp", "/tmp/go-build1/b001/pkg.test", []string{"/run"}},
		{"file under /run", "/run/netsteer/x", []string{"/tmp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := NewTree()
			if err := addLayout(tree); err != nil {
				t.Fatal(err)
			}
			if err := tree.AddData(tt.extra, 0o755, nil); err != nil {
				t.Fatal(err)
			}
			if err := addJob(tree, Job{Nonce: "n", Args: []string{tt.extra}}); err != nil {
				t.Fatal(err)
			}
			if got := jobIn(t, tree).Tmpfs; !reflect.DeepEqual(got, tt.wantTmpfs) {
				t.Errorf("Tmpfs = %q, want %q", got, tt.wantTmpfs)
			}
		})
	}
}

func TestAddModulesKeepsOrder(t *testing.T) {
	tree := NewTree()
	job := Job{}
	mods := []Module{{Name: "llc", Image: []byte("a")}, {Name: "stp", Image: []byte("b")}, {Name: "bridge", Image: []byte("c")}}
	if err := addModules(tree, mods, &job); err != nil {
		t.Fatal(err)
	}
	want := []string{"/netsteer/modules/000-llc.ko", "/netsteer/modules/001-stp.ko", "/netsteer/modules/002-bridge.ko"}
	if !reflect.DeepEqual(job.Modules, want) {
		t.Errorf("job.Modules = %q, want %q", job.Modules, want)
	}
	for i, p := range want {
		if got := string(tree.entries[p].data); got != string(mods[i].Image) {
			t.Errorf("%s holds %q, want %q", p, got, mods[i].Image)
		}
	}
}

func TestAddLayout(t *testing.T) {
	tree := NewTree()
	if err := addLayout(tree); err != nil {
		t.Fatal(err)
	}
	want := `/dev/console chardev 5,1
/etc/group file 644 data
/etc/hosts file 644 data
/etc/passwd file 644 data
/proc dir 755
/root dir 755
/run dir 755
/sys dir 755
/tmp dir 755
/var/run symlink /run
`
	if got := tree.String(); got != want {
		t.Errorf("layout:\n%s\nwant:\n%s", got, want)
	}
	if hosts := string(tree.entries["/etc/hosts"].data); !strings.Contains(hosts, "127.0.0.1 localhost") {
		t.Errorf("/etc/hosts = %q", hosts)
	}
}
