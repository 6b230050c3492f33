//go:build integration

package vethbridge

import (
	"slices"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
	"github.com/netsteer/netsteer/pkg/spoofchk"
)

// spoofRules lists the ports holding a macspoofchk rule on the node, with
// the MAC each allows, as nft reports them.
func spoofRules(t *testing.T, node *nstest.Node) []string {
	t.Helper()
	out, err := node.Host.TryExec(append([]string{"nft"}, spoofchk.ListArgs()...)...)
	if err != nil {
		if strings.Contains(out+err.Error(), "No such file") {
			return nil
		}
		t.Fatalf("nft list: %v: %s", err, out)
	}
	listed, err := spoofchk.Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range listed {
		got = append(got, l.Port+"="+l.MAC)
	}
	return got
}

// TestMacSpoofChk: a pod that changes its MAC loses its gateway; back to
// its own MAC it has it again; DEL removes the port's rule; GC removes the
// rule of a pod deleted behind the plugin's back; a table of someone else's
// is never touched.
func TestMacSpoofChk(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "spoof", plugin("spoof", []string{"10.58.0.0/24"}, map[string]any{"macspoofchk": true})), 2)
	host := s.node.Host
	host.Exec(t, "nft", "add table bridge nstoperator; add chain bridge nstoperator c; add rule bridge nstoperator c ether saddr 02:00:00:00:00:01 counter comment \"netsteer:spoof\"")
	theirs := host.Exec(t, "nft", "list", "table", "bridge", "nstoperator")

	s.add(t, 0)
	pod := s.conts[0].Netns
	own := strings.TrimSpace(pod.Exec(t, "cat", "/sys/class/net/eth0/address"))
	port := hostVeths(t, s.node)[0]
	if got := spoofRules(t, s.node); !slices.Equal(got, []string{port + "=" + own}) {
		t.Fatalf("macspoofchk rules %v, want %s=%s", got, port, own)
	}
	ping(t, pod, "10.58.0.1")
	if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
		t.Errorf("CHECK after ADD: %v", err)
	}

	// Down and up to change the MAC drops the default route; the
	// gateway stays reachable on-link.
	setMAC := func(mac string) {
		pod.Exec(t, "ip", "link", "set", "eth0", "down")
		pod.Exec(t, "ip", "link", "set", "eth0", "address", mac)
		pod.Exec(t, "ip", "link", "set", "eth0", "up")
		pod.Exec(t, "ip", "neigh", "flush", "dev", "eth0")
	}
	setMAC("02:42:0a:3a:00:99")
	pingFails(t, pod, "10.58.0.1")
	setMAC(own)
	ping(t, pod, "10.58.0.1")

	if err := s.node.Del(t, s.list, s.conts[0]); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	if got := spoofRules(t, s.node); len(got) != 0 {
		t.Errorf("after DEL, macspoofchk rules %v, want none", got)
	}

	// A pod whose veth vanished without DEL leaves a stray rule; GC takes it.
	s.add(t, 1)
	host.Exec(t, "ip", "link", "del", hostVeths(t, s.node)[0])
	if got := spoofRules(t, s.node); len(got) != 1 {
		t.Fatalf("before GC, macspoofchk rules %v, want the stray", got)
	}
	if err := s.node.GC(t, s.list); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if got := spoofRules(t, s.node); len(got) != 0 {
		t.Errorf("after GC, macspoofchk rules %v, want none", got)
	}
	if after := host.Exec(t, "nft", "list", "table", "bridge", "nstoperator"); after != theirs {
		t.Errorf("another table changed:\nbefore:\n%s\nafter:\n%s", theirs, after)
	}
}
