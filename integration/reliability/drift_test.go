//go:build integration

package reliability

import (
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// TestDelAndGCAfterConfigDrift: the operator narrows the per-pod sysctl
// allowlist, refuses a sysctl key and sets rps.cpus past the node's CPUs
// between ADD and DEL (issue 9, class 6). ADD would refuse the new config,
// but DEL through libcni and GC run directly must still release: the
// veth and the host-local reservation are gone afterwards.
func TestDelAndGCAfterConfigDrift(t *testing.T) {
	node := nstest.NewNode(t)
	nw := network{Name: "drift", Bridge: "nstbrd", Subnet: "10.97.0.0/24", Extra: map[string]any{
		"allowedPodSysctls": []string{"net.ipv4.tcp_keepalive_time"},
		"sysctl":            map[string]string{"net.ipv4.tcp_fin_timeout": "33"},
		"rps":               map[string]any{"cpus": "0"},
		"capabilities":      map[string]bool{"sysctl": true},
	}}
	drifted := nw
	drifted.Extra = map[string]any{
		"allowedPodSysctls": []string{"net.ipv4.tcp_ecn"},
		"sysctl":            map[string]string{"net.netfilter.nf_hooks_lwtunnel": "1"},
		"rps":               map[string]any{"cpus": "0-99999"},
		"capabilities":      map[string]bool{"sysctl": true},
	}
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	list := node.Conflist(t, "10-drift.conflist", nw.conflist())
	caps := map[string]any{"sysctl": map[string]string{"net.ipv4.tcp_keepalive_time": "321"}}
	pods := []nstest.Attachment{
		{ID: "drift-del", Netns: leaks.Netns(t, "drift-del"), Caps: caps},
		{ID: "drift-gc", Netns: leaks.Netns(t, "drift-gc"), Caps: caps},
	}
	for _, a := range pods {
		if _, err := node.Add(t, list, a); err != nil {
			t.Fatalf("ADD %s: %v", a.ID, err)
		}
	}
	newList := node.Conflist(t, "10-drift.conflist", drifted.conflist())
	if _, err := node.Add(t, newList, nstest.Attachment{ID: "drift-new", Netns: leaks.Netns(t, "drift-new"), Caps: caps}); cniCode(err) != 7 {
		t.Fatalf("ADD with the drifted config = %v, want code 7 (else the case proves nothing)", err)
	}

	if err := node.Del(t, newList, pods[0]); err != nil {
		t.Fatalf("DEL with the drifted config: %v", err)
	}
	if hasAttachmentVeth(t, node, nw, pods[0].ID) || reservedBy(t, node, nw, pods[0].ID) {
		t.Errorf("DEL with the drifted config left the veth or the reservation of %s", pods[0].ID)
	}

	// GC run directly, as CRI-O does on start, so libcni's cache plays no
	// part: no valid-attachments, so every attachment of the network is stale.
	if stdout, stderr, err := node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "GC"}, drifted.conf()); err != nil {
		t.Fatalf("GC with the drifted config: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if hasAttachmentVeth(t, node, nw, pods[1].ID) || reservedBy(t, node, nw, pods[1].ID) {
		t.Errorf("GC with the drifted config left the veth or the reservation of %s", pods[1].ID)
	}
	// The runtime's own DEL of the reclaimed pod finds nothing and succeeds.
	if err := node.Del(t, newList, pods[1]); err != nil {
		t.Fatalf("DEL after GC with the drifted config: %v", err)
	}
	leaks.Check(t)
}
