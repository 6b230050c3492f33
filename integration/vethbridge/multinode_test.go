//go:build integration

package vethbridge

import (
	"fmt"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// TestTwoNodes is the cluster topology the README describes: two nodes,
// each with its own bridge and pod CIDR, a route to the other node's pod
// CIDR, and the cluster CIDR in noMasqueradeCIDRs. Pods on different
// nodes see each other's real addresses; traffic to a host outside the
// cluster leaves with the node's address.
//
//	podA ─ nodeA (192.0.2.1) ─┐
//	podB ─ nodeB (192.0.2.2) ─┼─ switch ─ outside (192.0.2.3)
func TestTwoNodes(t *testing.T) {
	sw := nstest.NewNetns(t, "sw")
	nstest.Run(t, "ip", "-n", sw.Name, "link", "add", "nstsw", "type", "bridge")
	nstest.Run(t, "ip", "-n", sw.Name, "link", "set", "nstsw", "up")
	plug := func(ns nstest.Netns, port, addr string) {
		nstest.Run(t, "ip", "-n", ns.Name, "link", "add", "nstup0", "type", "veth", "peer", "name", port, "netns", sw.Name)
		nstest.Run(t, "ip", "-n", sw.Name, "link", "set", port, "master", "nstsw", "up")
		nstest.Run(t, "ip", "-n", ns.Name, "addr", "add", addr+"/24", "dev", "nstup0")
		nstest.Run(t, "ip", "-n", ns.Name, "link", "set", "nstup0", "up")
	}
	type node struct {
		s        *setup
		addr     string
		podCIDR  string
		otherPod string
		otherIP  string
	}
	nodes := []*node{
		{addr: "192.0.2.1", podCIDR: "10.60.0.0/24", otherPod: "10.60.1.0/24", otherIP: "192.0.2.2"},
		{addr: "192.0.2.2", podCIDR: "10.60.1.0/24", otherPod: "10.60.0.0/24", otherIP: "192.0.2.1"},
	}
	for i, n := range nodes {
		n.s = newSetup(t, conflist("1.1.0", "cluster", plugin("cluster", []string{n.podCIDR}, map[string]any{
			"noMasqueradeCIDRs": []string{"10.60.0.0/16"},
		})), 1)
		plug(n.s.node.Host, fmt.Sprintf("nstsw%d", i), n.addr)
		nstest.Run(t, "ip", "-n", n.s.node.Host.Name, "route", "add", n.otherPod, "via", n.otherIP)
	}
	out := nstest.NewNetns(t, "out")
	plug(out, "nstsw9", "192.0.2.3")

	podA := addrOf(t, nodes[0].s.add(t, 0), false)
	podB := addrOf(t, nodes[1].s.add(t, 0), false)
	a, b := nodes[0].s.conts[0].Netns, nodes[1].s.conts[0].Netns

	port, remotes := listen(t, b, podB)
	dial(t, nodes[0].s.node, a, podB, port)
	if got := <-remotes; got != podA {
		t.Errorf("pod on node B saw %s, want pod A's own %s (no NAT inside the cluster)", got, podA)
	}
	port, remotes = listen(t, a, podA)
	dial(t, nodes[1].s.node, b, podA, port)
	if got := <-remotes; got != podB {
		t.Errorf("pod on node A saw %s, want pod B's own %s", got, podB)
	}
	port, remotes = listen(t, out, "192.0.2.3")
	for i, n := range nodes {
		dial(t, n.s.node, n.s.conts[0].Netns, "192.0.2.3", port)
		if got := <-remotes; got != n.addr {
			t.Errorf("outside saw pod of node %d as %s, want the node's %s (masquerade)", i, got, n.addr)
		}
	}
}
