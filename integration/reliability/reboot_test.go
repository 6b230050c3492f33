//go:build integration

package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/integration/nstest"
)

// TestGCAfterSimulatedReboot: the runtime lost every attachment of
// network "lost" (its result cache emptied; some container netns gone,
// the others left behind by a stuck process). GC with no valid
// attachments, through libcni as `cnitool gc` does it, must reclaim every
// reservation and host veth of "lost" and touch nothing of network "kept"
// on the same node, whose pods keep working.
func TestGCAfterSimulatedReboot(t *testing.T) {
	node := nstest.NewNode(t)
	lost := network{Name: "lost", Bridge: "nstbrl", Subnet: "10.92.0.0/24"}
	kept := network{Name: "kept", Bridge: "nstbrk", Subnet: "10.92.1.0/24"}
	leaks := nstest.WatchLeaks(t, node, lost.Name, kept.Name)
	lostList := node.Conflist(t, "10-lost.conflist", lost.conflist())
	keptList := node.Conflist(t, "20-kept.conflist", kept.conflist())

	const nLost, nKept = 6, 3
	var lostPods, keptPods []nstest.Attachment
	keptAddrs := map[string]string{}
	for i := range nLost {
		a := nstest.Attachment{ID: fmt.Sprintf("lost-%d", i), Netns: leaks.Netns(t, "lost"), IfName: "eth0"}
		if _, err := node.Add(t, lostList, a); err != nil {
			t.Fatalf("ADD %s: %v", a.ID, err)
		}
		lostPods = append(lostPods, a)
	}
	for i := range nKept {
		a := nstest.Attachment{ID: fmt.Sprintf("kept-%d", i), Netns: leaks.Netns(t, "kept"), IfName: "eth0"}
		r, err := node.Add(t, keptList, a)
		if err != nil {
			t.Fatalf("ADD %s: %v", a.ID, err)
		}
		res, err := current.NewResultFromResult(r)
		if err != nil {
			t.Fatal(err)
		}
		keptAddrs[a.ID] = res.IPs[0].Address.IP.String()
		keptPods = append(keptPods, a)
	}
	keptRules := networkRules(t, node, kept)
	keptReservations := len(node.Reservations(t, filepath.Join(kept.Name, kept.Name)))

	// The reboot, as far as the runtime can tell: half the lost pods' netns
	// are gone (their veths with them), the rest linger; no cache survives.
	for _, a := range lostPods[:nLost/2] {
		nstest.Run(t, "ip", "netns", "del", a.Netns.Name)
	}
	if err := os.RemoveAll(filepath.Join(node.CacheDir, "results")); err != nil {
		t.Fatal(err)
	}
	// The kernel destroys a deleted netns, and the veths in it, from a
	// work queue: wait until it has.
	lingering := nLost - nLost/2
	waitUntil(t, fmt.Sprintf("%d host veths of %s left after deleting %d netns", lingering, lost.Name, nLost/2),
		func() bool { return len(veths(t, node, lost)) == lingering })

	if err := node.GC(t, lostList); err != nil {
		t.Fatalf("GC of %s with no valid attachments: %v", lost.Name, err)
	}
	if v := veths(t, node, lost); len(v) != 0 {
		t.Errorf("host veths of %s after GC: %v", lost.Name, v)
	}
	if r := node.Reservations(t, filepath.Join(lost.Name, lost.Name)); len(r) != 0 {
		t.Errorf("reservations of %s after GC: %v", lost.Name, r)
	}
	for _, a := range lostPods[nLost/2:] {
		if links := a.Netns.LinksOfKind(t, "veth"); len(links) != 0 {
			t.Errorf("container %s still has %v after GC", a.ID, links)
		}
	}

	// Network "kept" is untouched and still works.
	if v := veths(t, node, kept); len(v) != nKept {
		t.Errorf("host veths of %s after GC of %s: %v, want %d", kept.Name, lost.Name, v, nKept)
	}
	if got := len(node.Reservations(t, filepath.Join(kept.Name, kept.Name))); got != keptReservations {
		t.Errorf("reservations of %s after GC of %s: %d, want %d", kept.Name, lost.Name, got, keptReservations)
	}
	if p := rulesProblem(networkRules(t, node, kept), keptRules, true); p != "" {
		t.Errorf("GC of %s changed %s's rules: %s", lost.Name, kept.Name, p)
	}
	for i, a := range keptPods {
		peer := keptPods[(i+1)%len(keptPods)]
		if out, err := a.Netns.TryExec("ping", "-c", "1", "-W", "3", keptAddrs[peer.ID]); err != nil {
			t.Errorf("after GC of %s, %s cannot reach %s: %v\n%s", lost.Name, a.ID, peer.ID, err, out)
		}
	}
	// GC of "kept" with its pods valid keeps them too.
	if err := node.GC(t, keptList, keptPods...); err != nil {
		t.Fatalf("GC of %s with its pods valid: %v", kept.Name, err)
	}
	if v := veths(t, node, kept); len(v) != nKept {
		t.Errorf("GC of %s with every pod valid removed veths: %v left", kept.Name, v)
	}
	for _, a := range keptPods {
		if err := node.Del(t, keptList, a); err != nil {
			t.Errorf("DEL %s: %v", a.ID, err)
		}
	}
	leaks.Check(t)
	t.Logf("reboot: attachments lost=%d (netns gone=%d, lingering=%d) reclaimed by GC, other network's attachments kept=%d, leaks after DEL=%d",
		nLost, nLost/2, lingering, nKept, len(leaks.Problems(t, false)))
}

// waitUntil polls cond until it holds. The bound only keeps a broken
// kernel from hanging the suite; it is no performance expectation.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// veths lists the node's host veths that belong to network nw.
func veths(t *testing.T, node *nstest.Node, nw network) []string {
	t.Helper()
	var out []string
	for _, l := range node.Host.Links(t) {
		if l.Kind == "veth" && strings.HasPrefix(l.Alias, "netsteer:"+nw.Name+":") {
			out = append(out, l.Name)
		}
	}
	return out
}
