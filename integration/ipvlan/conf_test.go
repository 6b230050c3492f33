//go:build vm

package ipvlan

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"

	"github.com/netsteer/netsteer/pkg/oplog"
)

// confDir is the repository's conf/ (make test-ipvlan-vm mirrors it into
// the VM at the same path).
func confDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "conf")
}

// TestConfExample runs conf/40-netsteer-ipvlan.conflist as shipped, but for
// the master (the node's) and host-local's store (the test's): two pods
// talk, CHECK passes, DEL leaves no reservation.
func TestConfExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(confDir(t), "40-netsteer-ipvlan.conflist"))
	if err != nil {
		t.Fatalf("reading the example (is conf/ in NETSTEER_VM_FILES?): %v", err)
	}
	n := newNode(t)
	var conf map[string]any
	if err := json.Unmarshal(raw, &conf); err != nil {
		t.Fatal(err)
	}
	p := conf["plugins"].([]any)[0].(map[string]any)
	p["master"] = master
	p["ipam"].(map[string]any)["dataDir"] = n.dataDir
	b, _ := json.Marshal(conf)
	list, err := libcni.ConfListFromBytes(b)
	if err != nil {
		t.Fatalf("libcni cannot load the example: %v", err)
	}
	rng := p["ipam"].(map[string]any)["ranges"].([]any)[0].([]any)[0].(map[string]any)
	start, end := netip.MustParseAddr(rng["rangeStart"].(string)), netip.MustParseAddr(rng["rangeEnd"].(string))
	a, c := n.attach(t, list, "a"), n.attach(t, list, "c")
	for _, x := range []container{a, c} {
		assertIPVlan(t, n, x, "l2", "bridge")
		if x.addr.Addr().Less(start) || end.Less(x.addr.Addr()) {
			t.Errorf("pod address %s is outside the example's range %s-%s", x.addr, start, end)
		}
	}
	assertTCP(t, a, c)
	if err := n.check(list, rt(a.id, a.ns)); err != nil {
		t.Errorf("CHECK: %v", err)
	}
	for _, x := range []container{a, c} {
		if err := n.del(list, rt(x.id, x.ns)); err != nil {
			t.Fatalf("DEL %s: %v", x.id, err)
		}
	}
	if got := n.reserved(t, list.Name); len(got) != 0 {
		t.Errorf("host-local still holds %v after DEL", got)
	}
}

// TestOperationsLog: with the "log" key, ipvlan writes one JSON line per
// verb naming the attachment and ADD's steps, and a failing ADD logs its
// CNI code.
func TestOperationsLog(t *testing.T) {
	n := newNode(t)
	logFile := filepath.Join(t.TempDir(), "ipvlan.log")
	list := n.network(t, netOpts{name: "nstlog", subnet: "10.33.0.0/24", extra: map[string]any{"log": map[string]any{"file": logFile}}})
	c := n.attach(t, list, "a")
	if err := n.del(list, rt(c.id, c.ns)); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	tooBig := n.network(t, netOpts{name: "nstlogmtu", subnet: "10.33.1.0/24", extra: map[string]any{"mtu": 9000, "log": map[string]any{"file": logFile}}})
	ns := newNamespace(t, "b")
	if _, err := n.add(tooBig, rt(containerID(t, "b"), ns)); cniCode(err) != 7 {
		t.Fatalf("ADD with mtu above the master's = %v, want code 7", err)
	}

	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("operations log:\n%s", raw)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e oplog.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		var steps []string
		for _, s := range e.Steps {
			steps = append(steps, s.Step)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s code=%d steps=%s", e.Plugin, e.Verb, e.Network, e.IfName, e.Result, e.Code, strings.Join(steps, ",")))
	}
	want := []string{
		"ipvlan ADD nstlog eth0 ok code=0 steps=link,rename,sysctls,ipam,addresses",
		"ipvlan DEL nstlog eth0 ok code=0 steps=",
		"ipvlan ADD nstlogmtu eth0 error code=7 steps=",
	}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("log:\n%s\nwant it to start with:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
