package oplog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAppendAndRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "netsteer.log")
	c := Config{File: path, MaxBytes: MinMaxBytes}
	line := []byte(strings.Repeat("x", 999) + "\n")
	for i := 0; i < 5; i++ {
		if err := Append(c, line); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	// 4 lines fit in 4096 bytes; the 5th rotated them to .1.
	if len(old) != 4000 || len(cur) != 1000 {
		t.Errorf("after 5 lines of 1000 bytes: .1 has %d bytes, the log %d; want 4000 and 1000", len(old), len(cur))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm&0o027 != 0 {
		t.Errorf("log created with mode %v, want at most 0640", perm)
	}
}

func TestAppendTruncatesWhenRotationIsBlocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "netsteer.log")
	if err := os.MkdirAll(filepath.Join(path+".1", "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := Config{File: path, MaxBytes: MinMaxBytes}
	line := []byte(strings.Repeat("y", 2999) + "\n")
	for i := 0; i < 3; i++ {
		if err := Append(c, line); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, line) {
		t.Errorf("log holds %d bytes, want the last line only (%d)", len(got), len(line))
	}
}

var errNeedsRoot = errors.New("needs root")

func TestAppendRefusesWhatIsNotItsOwnRegularFile(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	realDir := filepath.Join(dir, "real")
	if err := os.Mkdir(realDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func(path string) error
	}{
		{"symlink to a file", func(p string) error { return os.Symlink(victim, p) }},
		{"hard link to a file", func(p string) error { return os.Link(victim, p) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"fifo", func(p string) error { return unix.Mkfifo(p, 0o600) }},
		{"file of another user", func(p string) error {
			if err := os.WriteFile(p, nil, 0o666); err != nil {
				return err
			}
			if os.Geteuid() != 0 {
				return errNeedsRoot
			}
			return os.Chown(p, os.Geteuid()+1, -1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := tc.setup(path); errors.Is(err, errNeedsRoot) {
				t.Skip("giving a file to another user needs root (make test runs as root)")
			} else if err != nil {
				t.Fatal(err)
			}
			if err := Append(Config{File: path, MaxBytes: MinMaxBytes}, []byte("line\n")); err == nil {
				t.Errorf("Append to a %s succeeded", tc.name)
			}
		})
	}
	t.Run("symlinked parent directory", func(t *testing.T) {
		link := filepath.Join(dir, "linkdir")
		if err := os.Symlink(realDir, link); err != nil {
			t.Fatal(err)
		}
		if err := Append(Config{File: filepath.Join(link, "n.log"), MaxBytes: MinMaxBytes}, []byte("line\n")); err == nil {
			t.Error("Append through a symlinked directory succeeded")
		}
		if _, err := os.Stat(filepath.Join(realDir, "n.log")); err == nil {
			t.Error("a file was created through the symlink")
		}
	})
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Errorf("victim file changed: %q", got)
	}
}
