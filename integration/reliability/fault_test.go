//go:build integration

package reliability

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/integration/nstest"
)

// faultNode is one node with one network and one container netns, the
// ADD of which has run, ready for a fault.
type faultNode struct {
	node  *nstest.Node
	leaks *nstest.Leaks
	nw    network
	c     nstest.Netns
	id    string
	add   string // ADD's stdout: the result
}

func newFaultNode(t *testing.T, name, subnet string) *faultNode {
	t.Helper()
	node := nstest.NewNode(t)
	f := &faultNode{node: node, nw: network{Name: name, Bridge: "nstbrf", Subnet: subnet}, id: "fault-" + name}
	f.leaks = nstest.WatchLeaks(t, node, name)
	f.c = f.leaks.Netns(t, "fault")
	f.add = mustRun(t, node, f.nw, "ADD", f.id, f.c.Path())
	return f
}

// withPrevResult is the network's config carrying prev as prevResult.
func (f *faultNode) withPrevResult(t *testing.T, prev any) string {
	t.Helper()
	p := f.nw.plugin()
	p["cniVersion"], p["name"], p["prevResult"] = f.nw.version(), f.nw.Name, prev
	return mustJSON(p)
}

func TestFaults(t *testing.T) {
	var injected atomic.Int64
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"netns deleted before DEL", func(t *testing.T) {
			f := newFaultNode(t, "gone", "10.91.1.0/24")
			nstest.Run(t, "ip", "netns", "del", f.c.Name)
			mustRun(t, f.node, f.nw, "DEL", f.id, f.c.Path())
			mustRun(t, f.node, f.nw, "DEL", f.id, f.c.Path()) // and again
			f.leaks.Check(t)
		}},
		{"CNI_NETNS empty at DEL", func(t *testing.T) {
			f := newFaultNode(t, "emptyns", "10.91.2.0/24")
			mustRun(t, f.node, f.nw, "DEL", f.id, "")
			f.leaks.Check(t)
		}},
		{"prevResult absent at DEL", func(t *testing.T) {
			f := newFaultNode(t, "noprev", "10.91.3.0/24")
			mustRun(t, f.node, f.nw, "DEL", f.id, f.c.Path()) // conf() carries no prevResult
			f.leaks.Check(t)
		}},
		{"0.4.0 prevResult with 1.1.0 CHECK and DEL", func(t *testing.T) {
			f := newFaultNode(t, "oldprev", "10.91.4.0/24")
			res, err := current.NewResult([]byte(f.add))
			if err != nil {
				t.Fatalf("parsing ADD result: %v", err)
			}
			old, err := res.GetAsVersion("0.4.0")
			if err != nil {
				t.Fatal(err)
			}
			var prev map[string]any
			b, _ := json.Marshal(old)
			_ = json.Unmarshal(b, &prev)
			if prev["cniVersion"] != "0.4.0" {
				t.Fatalf("converted result is %v, want 0.4.0", prev["cniVersion"])
			}
			conf := f.withPrevResult(t, prev)
			// Documented: an older result is read and converted; CHECK passes.
			if out, stderr, err := f.node.RunPlugin(t, "vethbridge", env("CHECK", f.id, f.c.Path()), conf); err != nil {
				t.Fatalf("CHECK with a 0.4.0 prevResult: %v\n%s%s", err, out, stderr)
			}
			if out, stderr, err := f.node.RunPlugin(t, "vethbridge", env("DEL", f.id, f.c.Path()), conf); err != nil {
				t.Fatalf("DEL with a 0.4.0 prevResult: %v\n%s%s", err, out, stderr)
			}
			f.leaks.Check(t)
		}},
		{"bridge deleted between ADD and DEL", func(t *testing.T) {
			f := newFaultNode(t, "nobridge", "10.91.5.0/24")
			complete := networkRules(t, f.node, f.nw)
			f.node.Host.Exec(t, "ip", "link", "del", f.nw.Bridge)
			mustRun(t, f.node, f.nw, "DEL", f.id, f.c.Path())
			f.leaks.Check(t)
			// The next ADD recreates the bridge; its rule stamp went with the
			// old bridge, so the rules are applied again and must not double.
			mustRun(t, f.node, f.nw, "ADD", f.id, f.c.Path())
			if p := rulesProblem(networkRules(t, f.node, f.nw), complete, true); p != "" {
				t.Errorf("after re-creating the bridge: %s", p)
			}
			mustRun(t, f.node, f.nw, "DEL", f.id, f.c.Path())
			f.leaks.Check(t)
		}},
		{"IPAM binary missing at DEL", ipamMissingAtDel},
		{"iptables missing", iptablesMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			injected.Add(1)
			tc.run(t)
		})
	}
	t.Logf("faults injected=%d, each followed by the leak checker", injected.Load())
}

// ipamMissingAtDel: DEL without host-local in CNI_PATH fails naming it,
// still deletes the veth, and a later DEL with IPAM back releases the
// address.
func ipamMissingAtDel(t *testing.T) {
	f := newFaultNode(t, "noipam", "10.91.6.0/24")
	bin := t.TempDir()
	if err := os.Symlink(filepath.Join(f.node.Bin, "vethbridge"), filepath.Join(bin, "vethbridge")); err != nil {
		t.Fatal(err)
	}
	e := env("DEL", f.id, f.c.Path())
	e["CNI_PATH"] = bin
	stdout, _, err := f.node.RunPlugin(t, "vethbridge", e, f.nw.conf())
	if err == nil {
		t.Fatal("DEL without the IPAM binary succeeded")
	}
	if ce := parseError(t, stdout); ce.Code != 102 || !strings.Contains(ce.Msg, "host-local") {
		t.Errorf("DEL error = code %d %q, want 102 naming host-local", ce.Code, ce.Msg)
	}
	if hasAttachmentVeth(t, f.node, f.nw, f.id) {
		t.Error("DEL without IPAM left the host veth")
	}
	if !reservedBy(t, f.node, f.nw, f.id) {
		t.Fatal("the reservation is gone although host-local never ran: the test proves nothing")
	}
	mustRun(t, f.node, f.nw, "DEL", f.id, f.c.Path())
	f.leaks.Check(t)
}

// iptablesMissing: with the backend's binary not in PATH (iptables, or nft
// when the suite runs under nftables), a network's first ADD fails naming
// it and leaves nothing of the attachment; STATUS says 50.
func iptablesMissing(t *testing.T) {
	node := nstest.NewNode(t)
	backend, binary := "iptables", "iptables"
	if os.Getenv("NST_IPMASQ_BACKEND") == "nftables" {
		backend, binary = "nftables", "nft"
	}
	nw := network{Name: "noipt", Bridge: "nstbrf", Subnet: "10.91.7.0/24", Extra: map[string]any{"ipMasqBackend": backend}}
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	c := leaks.Netns(t, "fault")
	e := env("ADD", "fault-noipt", c.Path())
	e["PATH"] = t.TempDir()
	stdout, _, err := node.RunPlugin(t, "vethbridge", e, nw.conf())
	if err == nil {
		t.Fatal("ADD without iptables succeeded")
	}
	if ce := parseError(t, stdout); ce.Code != 101 || !strings.Contains(ce.Msg, binary) {
		t.Errorf("ADD error = code %d %q, want 101 naming %s", ce.Code, ce.Msg, binary)
	}
	leaks.Check(t)
	if rules := networkRules(t, node, nw); len(rules) != 0 {
		t.Errorf("failed ADD left rules: %v", rules)
	}
	stdout, _, err = node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "STATUS", "PATH": e["PATH"]}, nw.conf())
	if err == nil {
		t.Fatal("STATUS without iptables succeeded")
	}
	if ce := parseError(t, stdout); ce.Code != 50 || !strings.Contains(ce.Msg, binary) {
		t.Errorf("STATUS error = code %d %q, want 50 naming %s", ce.Code, ce.Msg, binary)
	}
	if _, _, err := node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "STATUS"}, nw.conf()); err != nil {
		t.Errorf("STATUS with iptables back: %v", err)
	}
}
