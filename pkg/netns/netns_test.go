package netns

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	"golang.org/x/sys/unix"
)

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, why string
	}{
		{"empty", "", "required"},
		{"missing", filepath.Join(dir, "gone"), "cannot open"},
		{"fifo", fifo, "not a network namespace"},
		{"regular file", regular, "not a network namespace"},
		{"directory", dir, "not a network namespace"},
		{"own netns", "/proc/self/ns/net", "plugin's own"},
		{"own netns by another name", "/proc/thread-self/ns/net", "plugin's own"},
		{"another kind of namespace", "/proc/self/ns/uts", "not a network namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				n, err := Open(tc.path)
				n.Close()
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second): // a hang, not a slow run
				t.Fatalf("Open(%q) hung", tc.path)
			}
			var te *types.Error
			if !errors.As(err, &te) || te.Code != types.ErrInvalidEnvironmentVariables ||
				!strings.Contains(te.Msg, "CNI_NETNS") || !strings.Contains(te.Msg, tc.path) || !strings.Contains(te.Msg, tc.why) {
				t.Errorf("Open(%q) = %v, want code 4 naming CNI_NETNS, the path and %q", tc.path, err, tc.why)
			}
		})
	}
}

func TestAnUnopenedNSNeverActs(t *testing.T) {
	n := &NS{Path: "/run/netns/nst-fake"}
	ran := false
	err := n.Do(func() error { ran = true; return nil })
	if err == nil || ran || n.Fd() != -1 || !strings.Contains(err.Error(), n.Path) {
		t.Errorf("Do on an unopened NS: err=%v ran=%v fd=%d", err, ran, n.Fd())
	}
}
