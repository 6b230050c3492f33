//go:build vm

package ipvlan

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/containernetworking/cni/libcni"
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
