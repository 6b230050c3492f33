package rps

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestApplyInNetns applies RPS to veths that exist only in a fresh netns,
// through a sysfs mounted for that netns, and checks what the kernel reports.
func TestApplyInNetns(t *testing.T) {
	requireRoot(t)
	ns := newNetns(t, "nst-rps")
	nsPath := "/run/netns/" + ns
	run(t, "ip", "-n", ns, "link", "add", "nst-rps-a", "numtxqueues", "2", "numrxqueues", "4", "type", "veth", "peer", "name", "nst-rps-b")
	run(t, "ip", "-n", ns, "link", "add", "nst-rps-c", "type", "veth", "peer", "name", "nst-rps-d")
	if n := kernelRxQueues(t, ns, "nst-rps-a"); n != 4 {
		t.Fatalf("kernel reports %d rx queues on nst-rps-a, want 4", n)
	}
	xpsBefore := nsCat(t, ns, "/sys/class/net/nst-rps-a/queues/tx-0/xps_cpus", "/sys/class/net/nst-rps-a/queues/tx-1/xps_cpus")
	mountsBefore := readMounts(t)

	var all Mask
	var stateA, stateC map[string]Settings
	err := WithNetnsSysfs(nsPath, func(sysRoot string) error {
		ncpu, err := PossibleCPUs(sysRoot)
		if err != nil {
			return err
		}
		if all, err = Parse("all", ncpu); err != nil {
			return err
		}
		if err := Apply(sysRoot, "nst-rps-a", Settings{CPUs: all, FlowCount: 100}); err != nil {
			return err
		}
		if err := Apply(sysRoot, "nst-rps-c", Settings{CPUs: MaskOf(0)}); err != nil {
			return err
		}
		if stateA, err = Read(sysRoot, "nst-rps-a"); err != nil {
			return err
		}
		stateC, err = Read(sysRoot, "nst-rps-c")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	wantA := Settings{CPUs: all, FlowCount: 100}.Effective()
	if wantA.FlowCount != 128 {
		t.Fatalf("Effective flow count = %d, want 128", wantA.FlowCount)
	}
	for i := range 4 {
		q := "rx-" + strconv.Itoa(i)
		if got := stateA[q]; got != wantA {
			t.Errorf("Read nst-rps-a %s = {%s %d}, want {%s %d}", q, got.CPUs, got.FlowCount, wantA.CPUs, wantA.FlowCount)
		}
		// The kernel's own words, through the sysfs `ip netns exec` mounts.
		dir := "/sys/class/net/nst-rps-a/queues/" + q + "/"
		out := nsCat(t, ns, dir+"rps_cpus", dir+"rps_flow_cnt")
		if want := []string{all.String(), "128"}; !kernelMaskIs(out[0], all) || out[1] != want[1] {
			t.Errorf("kernel reports %s = %q, want %q", dir, out, want)
		}
	}
	if len(stateA) != 4 {
		t.Errorf("Read nst-rps-a found queues %v, want rx-0..rx-3", stateA)
	}
	if got := stateC["rx-0"]; len(stateC) != 1 || got != (Settings{CPUs: MaskOf(0)}) {
		t.Errorf("Read nst-rps-c = %v, want only rx-0 with CPU 0 and flow count 0", stateC)
	}
	if out := nsCat(t, ns, "/sys/class/net/nst-rps-c/queues/rx-0/rps_cpus"); !kernelMaskIs(out[0], MaskOf(0)) {
		t.Errorf("kernel reports nst-rps-c rx-0 rps_cpus = %q, want CPU 0", out[0])
	}
	xpsAfter := nsCat(t, ns, "/sys/class/net/nst-rps-a/queues/tx-0/xps_cpus", "/sys/class/net/nst-rps-a/queues/tx-1/xps_cpus")
	if strings.Join(xpsAfter, " ") != strings.Join(xpsBefore, " ") {
		t.Errorf("tx queues changed: xps_cpus %q, was %q", xpsAfter, xpsBefore)
	}
	if after := readMounts(t); after != mountsBefore {
		t.Errorf("mounts of the test process changed:\nbefore:\n%s\nafter:\n%s", mountsBefore, after)
	}
}

// TestWithNetnsSysfsShowsOnlyThatNetns proves the sysfs is the namespace's:
// a device of the test netns is invisible through the host's sysfs.
func TestWithNetnsSysfsShowsOnlyThatNetns(t *testing.T) {
	requireRoot(t)
	ns := newNetns(t, "nst-rps")
	run(t, "ip", "-n", ns, "link", "add", "nst-rps-e", "type", "veth", "peer", "name", "nst-rps-f")
	mountsBefore := readMounts(t)

	err := WithNetnsSysfs("", func(sysRoot string) error {
		return Apply(sysRoot, "nst-rps-e", Settings{CPUs: MaskOf(0)})
	})
	if err == nil || !strings.Contains(err.Error(), "device not found") {
		t.Errorf("Apply through the host netns sysfs = %v, want device not found", err)
	}

	var names []string
	err = WithNetnsSysfs("/run/netns/"+ns, func(sysRoot string) error {
		entries, err := os.ReadDir(sysRoot + "/class/net")
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, " "); got != "lo nst-rps-e nst-rps-f" {
		t.Errorf("netns sysfs lists devices %q, want lo nst-rps-e nst-rps-f", got)
	}
	if after := readMounts(t); after != mountsBefore {
		t.Errorf("mounts of the test process changed:\nbefore:\n%s\nafter:\n%s", mountsBefore, after)
	}
}

// TestWithNetnsSysfsKeepsProcessNamespaces repeats WithNetnsSysfs so that
// some calls land on the main thread, which Go never destroys: the process's
// namespaces, as /proc/self/ns shows them, must stay the same.
func TestWithNetnsSysfsKeepsProcessNamespaces(t *testing.T) {
	requireRoot(t)
	ns := newNetns(t, "nst-rps")
	before := processNamespaces(t)
	for range 100 {
		if err := WithNetnsSysfs("/run/netns/"+ns, func(string) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if after := processNamespaces(t); after != before {
		t.Errorf("process namespaces changed from %s to %s", before, after)
	}
}

func processNamespaces(t *testing.T) string {
	t.Helper()
	var ids []string
	for _, f := range []string{"/proc/self/ns/net", "/proc/self/ns/mnt"} {
		id, err := os.Readlink(f)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return strings.Join(ids, " ")
}

func TestWithNetnsSysfsErrors(t *testing.T) {
	requireRoot(t)
	err := WithNetnsSysfs("/run/netns/nst-rps-does-not-exist", func(string) error {
		t.Error("fn ran although the netns does not exist")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "opening netns /run/netns/nst-rps-does-not-exist") {
		t.Errorf("WithNetnsSysfs(missing) = %v, want an opening netns error", err)
	}
	err = WithNetnsSysfs("/proc/self/ns/mnt", func(string) error {
		t.Error("fn ran although the path is not a network namespace")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "entering netns /proc/self/ns/mnt") {
		t.Errorf("WithNetnsSysfs(mount ns) = %v, want an entering netns error", err)
	}
	sentinel := errors.New("nst sentinel")
	if err := WithNetnsSysfs("", func(string) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("WithNetnsSysfs returned %v, want fn's error", err)
	}
}

// kernelMaskIs reports whether the kernel's printed mask holds m's CPUs.
func kernelMaskIs(printed string, m Mask) bool {
	k, err := ParseKernel(printed)
	return err == nil && k == m
}

// kernelRxQueues returns num_rx_queues of dev as `ip -d -j link` reports it.
func kernelRxQueues(t *testing.T, ns, dev string) int {
	t.Helper()
	var links []struct {
		NumRxQueues int `json:"num_rx_queues"`
	}
	out := run(t, "ip", "-n", ns, "-d", "-j", "link", "show", "dev", dev)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("parsing ip -j output %q: %v", out, err)
	}
	return links[0].NumRxQueues
}

// nsCat returns the trimmed contents of files as read by `ip netns exec`,
// which mounts its own sysfs for the namespace.
func nsCat(t *testing.T, ns string, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		out = append(out, run(t, "ip", "netns", "exec", ns, "cat", f))
	}
	return out
}

// readMounts returns the sysfs mounts of the process and of the calling
// thread. Other mounts are left out: parallel tests on this machine add and
// remove /run/netns bind mounts all the time.
func readMounts(t *testing.T) string {
	t.Helper()
	var lines []string
	for _, f := range []string{"/proc/self/mountinfo", "/proc/thread-self/mountinfo"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, " - sysfs ") {
				lines = append(lines, f+": "+line)
			}
		}
	}
	if len(lines) == 0 {
		t.Fatal("no sysfs mount in /proc/self/mountinfo")
	}
	return strings.Join(lines, "")
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create network namespaces and mount sysfs")
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
