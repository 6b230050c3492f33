//go:build vm

package ipvlan

import (
	"encoding/json"
	"strings"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"
)

// faultBed is a bed whose attachment id has been ADDed, ready for a fault.
type faultBed struct {
	*bed
	id  string
	res *current.Result
}

func newFaultBed(t *testing.T, network, subnet string) *faultBed {
	t.Helper()
	f := &faultBed{bed: newBed(t, network, subnet), id: "nst-fault-" + network}
	f.res = f.add(t, f.id)
	if !f.n.reservedBy(t, network, f.id) {
		t.Fatalf("no host-local reservation after ADD %s: the fault would prove nothing", f.id)
	}
	return f
}

// del runs DEL with CNI_NETNS netns and the network's plain config (no
// prevResult); it must succeed.
func (f *faultBed) del(t *testing.T, netns string) {
	t.Helper()
	f.n.mustRun(t, invocation{command: "DEL", id: f.id, netns: netns}, f.conf)
}

// TestFaults gives each fault the result README documents for DEL and
// CHECK, and ends each with the leak checker.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, f *faultBed)
	}{
		{"netns deleted before DEL", func(t *testing.T, f *faultBed) {
			f.c.remove(t)
			f.del(t, f.c.Path)
			f.del(t, f.c.Path) // and again
		}},
		{"CNI_NETNS empty at DEL, netns gone", func(t *testing.T, f *faultBed) {
			f.c.remove(t)
			f.del(t, "")
		}},
		{"CNI_NETNS empty at DEL, netns still there", cniNetnsEmptyNetnsAlive},
		{"prevResult absent at DEL", func(t *testing.T, f *faultBed) {
			f.del(t, f.c.Path) // f.conf carries no prevResult
		}},
		{"0.4.0 prevResult with a 1.1.0 config at CHECK and DEL", oldPrevResult},
		{"host-local missing from CNI_PATH at DEL", ipamMissingAtDel},
		{"master deleted between ADD and DEL", func(t *testing.T, f *faultBed) {
			ip(t, "-n", f.n.ns.Name, "link", "del", master)
			// The kernel deletes an ipvlan with its master, wherever it is.
			if l := f.c.link(t, "eth0"); l != nil {
				t.Errorf("eth0 outlived its master: %+v", l)
			}
			f.del(t, f.c.Path)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultBed(t, "nstfault", "10.53.0.0/24")
			tc.run(t, f)
			f.leaks.check(t)
		})
	}
}

// cniNetnsEmptyNetnsAlive: a DEL with CNI_NETNS empty cannot reach the
// link, so, as documented, it only releases IPAM; the link goes with the
// netns.
func cniNetnsEmptyNetnsAlive(t *testing.T, f *faultBed) {
	f.del(t, "")
	if f.n.reservedBy(t, "nstfault", f.id) {
		t.Error("DEL with CNI_NETNS empty kept the reservation")
	}
	if f.c.link(t, "eth0") == nil {
		t.Error("eth0 is gone although DEL had no netns to reach: README says this DEL only releases IPAM")
	}
	f.c.remove(t)
}

// oldPrevResult: ADD's result converted to 0.4.0 as prevResult of a 1.1.0
// config; it is read in the version it declares, CHECK passes, DEL cleans.
func oldPrevResult(t *testing.T, f *faultBed) {
	old, err := f.res.GetAsVersion("0.4.0")
	if err != nil {
		t.Fatal(err)
	}
	var prev map[string]any
	b, err := json.Marshal(old)
	if err == nil {
		err = json.Unmarshal(b, &prev)
	}
	if err != nil || prev["cniVersion"] != "0.4.0" || f.list.CNIVersion != "1.1.0" {
		t.Fatalf("prevResult %s (%v) with a %s config: not the case under test", b, err, f.list.CNIVersion)
	}
	conf := pluginConf(t, f.list, map[string]any{"prevResult": prev})
	for _, command := range []string{"CHECK", "DEL"} {
		inv := invocation{command: command, id: f.id, netns: f.c.Path}
		if stdout, stderr, err := f.n.run(t, inv, conf); err != nil {
			t.Fatalf("%s with a 0.4.0 prevResult: %v\n%s%s", command, err, stdout, stderr)
		}
	}
}

// ipamMissingAtDel: without host-local in CNI_PATH, DEL fails with code
// 102 naming it and still deletes the link; a later DEL with host-local
// back releases the address.
func ipamMissingAtDel(t *testing.T, f *faultBed) {
	inv := invocation{command: "DEL", id: f.id, netns: f.c.Path, cniPath: t.TempDir()}
	stdout, _, err := f.n.run(t, inv, f.conf)
	if err == nil {
		t.Fatal("DEL without the IPAM binary succeeded")
	}
	if ce := parseError(t, stdout); ce.Code != 102 || !strings.Contains(ce.Msg, "host-local") {
		t.Errorf("DEL error = code %d %q, want 102 naming host-local", ce.Code, ce.Msg)
	}
	if l := f.c.link(t, "eth0"); l != nil {
		t.Errorf("DEL without IPAM left eth0: %+v", l)
	}
	if !f.n.reservedBy(t, "nstfault", f.id) {
		t.Fatal("the reservation is gone although host-local never ran: the case proves nothing")
	}
	f.del(t, f.c.Path)
}
