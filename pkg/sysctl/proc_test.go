//go:build linux

package sysctl

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The tests in this file use the real /proc/sys. Reading needs no privilege;
// writing happens only inside network namespaces the test creates.

func TestProcRead(t *testing.T) {
	proc := FS{Root: "/proc/sys"}
	raw, err := os.ReadFile("/proc/sys/net/ipv4/tcp_rmem")
	if err != nil {
		t.Fatalf("this test needs procfs with network sysctls: %v", err)
	}
	got, err := proc.Read(mustKey(t, "net.ipv4.tcp_rmem"))
	if err != nil {
		t.Fatal(err)
	}
	if got+"\n" != string(raw) {
		t.Errorf("Read(net.ipv4.tcp_rmem) = %q, kernel prints %q", got, raw)
	}
	if len(strings.Split(got, "\t")) != 3 {
		t.Errorf("Read(net.ipv4.tcp_rmem) = %q, want three tab-separated values", got)
	}
}

func TestProcGlob(t *testing.T) {
	proc := FS{Root: "/proc/sys"}
	keys, err := proc.Glob("net.ipv4.tcp_keepalive_*")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time"}
	if got := keyStrings(keys); !slices.Equal(got, want) {
		t.Errorf("Glob = %q, want %q", got, want)
	}
	keys, err = proc.Glob("net.ipv4.route.*")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(keyStrings(keys), "net.ipv4.route.flush") {
		t.Errorf("Glob(net.ipv4.route.*) = %q includes the write-only trigger flush", keyStrings(keys))
	}
}

// TestProcInheritIntoNetns is the keepalive scenario from the design brief:
// a "host" netns tuned to tcp_keepalive_time=600 and a fresh "container"
// netns that starts at the kernel default, then gets the host's values.
func TestProcInheritIntoNetns(t *testing.T) {
	requireRoot(t)
	host := newNetns(t, "nst-sysctl-host")
	ctr := newNetns(t, "nst-sysctl-ctr")
	// A veth whose name has a dot, like a VLAN interface; the kernel here has
	// no 802.1q driver, and the sysctl tree only cares about the name.
	run(t, "ip", "-n", ctr, "link", "add", "nst0.100", "type", "veth", "peer", "name", "nst1")
	run(t, "ip", "netns", "exec", host, "sh", "-c", "echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time")

	proc := FS{Root: "/proc/sys"}
	var inherited map[Key]string
	err := inNetns(host, func() error {
		var err error
		inherited, err = Inherit(proc, []string{"net.ipv4.tcp_keepalive_*"}, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := inherited[mustKey(t, "net.ipv4.tcp_keepalive_time")]; v != "600" {
		t.Fatalf("inherited tcp_keepalive_time = %q from the host netns, want 600", v)
	}

	rpFilter, err := ParseKey("net.ipv4.conf.IFNAME.rp_filter", "nst0.100")
	if err != nil {
		t.Fatal(err)
	}
	err = inNetns(ctr, func() error {
		for _, k := range SortedKeys(inherited) {
			if err := proc.Write(k, inherited[k]); err != nil {
				return err
			}
		}
		return proc.Write(rpFilter, "2")
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, check := range []struct{ file, want string }{
		{"/proc/sys/net/ipv4/tcp_keepalive_time", "600"},
		{"/proc/sys/net/ipv4/conf/nst0.100/rp_filter", "2"},
	} {
		if got := run(t, "ip", "netns", "exec", ctr, "cat", check.file); got != check.want {
			t.Errorf("in the container netns %s = %q, want %q", check.file, got, check.want)
		}
	}

	missing := mustKey(t, "net.ipv4.no_such_sysctl")
	err = inNetns(ctr, func() error {
		err := proc.Write(missing, "1")
		if err == nil {
			return fmt.Errorf("writing a missing sysctl succeeded")
		}
		if !strings.Contains(err.Error(), "net.ipv4.no_such_sysctl") {
			return fmt.Errorf("error %q does not name the key", err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create network namespaces and write their sysctls")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("running as root but iproute2 is missing (apt-get install iproute2)")
	}
}

// newNetns creates a named netns "<prefix>-<random>" that is deleted when the
// test ends, and returns its name.
func newNetns(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("deleting netns %s: %v: %s", name, err, out)
		}
	})
	return name
}

// run runs a command and returns its trimmed stdout, failing the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// inNetns runs fn on a thread that has joined the named netns. The thread
// stays locked when its goroutine returns, so Go discards it instead of
// handing it, still in the test netns, to other goroutines. The main thread
// is never used: Go parks it instead of discarding it.
func inNetns(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			err := inNetns(name, fn) // runs elsewhere while this thread stays locked
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("opening netns %s: %w", name, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering netns %s: %w", name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
