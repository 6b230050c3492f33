package netns

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// newTestSet returns a Set under a temporary directory; it needs root to
// create namespaces and mounts, and removes everything at the end.
func newTestSet(t *testing.T) *Set {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating network namespaces needs root (CAP_SYS_ADMIN); run as root")
	}
	s, err := NewSet(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.RemoveAll(); err != nil {
			t.Errorf("RemoveAll: %v", err)
		}
	})
	return s
}

func randomName(t *testing.T, purpose string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "nst-" + purpose + "-" + hex.EncodeToString(b)
}

func TestCreateDoRemove(t *testing.T) {
	s := newTestSet(t)
	name := randomName(t, "netnstest")
	ns, err := s.Create(name)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	self, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var inside string
	err = ns.Do(func() error {
		var err error
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if inside == self {
		t.Errorf("Do ran in the caller's netns %s", self)
	}

	cmd := exec.Command("ip", "-o", "link", "show", "lo")
	var out strings.Builder
	cmd.Stdout = &out
	if _, err := ns.Run(cmd); err != nil {
		t.Fatalf("ip link show lo: %v", err)
	}
	if !strings.Contains(out.String(), "<LOOPBACK,UP") {
		t.Errorf("lo is not up in %s: %s", name, out.String())
	}

	if err := s.Remove(ns); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Stat(ns.Path); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Remove (stat: %v)", ns.Path, err)
	}
	if err := s.Remove(ns); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestStartInheritsNetnsAndAffinity(t *testing.T) {
	s := newTestSet(t)
	ns, err := s.Create(randomName(t, "netnstest"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	var want string
	if err := ns.Do(func() error {
		var err error
		want, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "readlink /proc/self/ns/net; grep Cpus_allowed_list /proc/self/status")
	var out strings.Builder
	cmd.Stdout = &out
	if err := ns.Start(cmd, StartOptions{CPUs: []int{0}}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("waiting: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("unexpected output %q", out.String())
	}
	if lines[0] != want {
		t.Errorf("child netns = %s, want %s", lines[0], want)
	}
	if f := strings.Fields(lines[1]); len(f) != 2 || f[1] != "0" {
		t.Errorf("child affinity = %q, want CPU 0 only", lines[1])
	}
}

func TestRemoveAllLeavesNothing(t *testing.T) {
	s := newTestSet(t)
	for range 3 {
		if _, err := s.Create(randomName(t, "netnstest")); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	if err := s.RemoveAll(); err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	left, err := s.Leftovers("nst-")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("leftovers after RemoveAll: %v", left)
	}
}
