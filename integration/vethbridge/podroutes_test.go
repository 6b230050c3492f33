//go:build integration

package vethbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	fcache "k8s.io/client-go/tools/cache/testing"

	"github.com/netsteer/netsteer/integration/nstest"
	"github.com/netsteer/netsteer/pkg/podroutes"
)

// TestPodRoutesAgent runs the node agent of two "nodes" (network namespaces
// on one L2 segment) against a fake Node source holding three Nodes, the
// third on another segment, and checks the routing tables as `ip -j route`
// reports them, and that pod addresses on the two nodes reach each other
// over those routes with their own source addresses.
//
//	pods 10.61.0.1/24 fd61::1/64 ─ nodeA (192.0.2.1, fd00:2::1) ─┐
//	pods 10.61.1.1/24 fd61:1::1/64 ─ nodeB (192.0.2.2, fd00:2::2) ─┴─ switch
func TestPodRoutesAgent(t *testing.T) {
	nstest.RequireRoot(t)
	sw := nstest.NewNetns(t, "sw")
	nstest.Run(t, "ip", "-n", sw.Name, "link", "add", "nstsw", "type", "bridge")
	nstest.Run(t, "ip", "-n", sw.Name, "link", "set", "nstsw", "up")
	a := newRouteNode(t, sw, "a", 0)
	b := newRouteNode(t, sw, "b", 1)

	// A stale route of ours from an earlier run, and an operator's route
	// that is not ours, on node A.
	nstest.Run(t, "ip", "-n", a.ns.Name, "route", "add", "10.61.9.0/24", "via", "192.0.2.9", "proto", "158")
	nstest.Run(t, "ip", "-n", a.ns.Name, "route", "add", "10.99.0.0/16", "via", "192.0.2.254", "proto", "static")

	client := fcache.NewFakeControllerSource()
	client.Add(a.node())
	client.Add(b.node())
	client.Add(&corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "nst-far"},
		Spec:       corev1.NodeSpec{PodCIDRs: []string{"10.61.5.0/24"}},
		Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.51.100.5"}}},
	})
	stopA := a.start(t, client)
	stopB := b.start(t, client)

	wantA := []string{"10.61.1.0/24 via 192.0.2.2 dev nstup0", "fd61:1::/64 via fd00:2::2 dev nstup0"}
	wantB := []string{"10.61.0.0/24 via 192.0.2.1 dev nstup0", "fd61::/64 via fd00:2::1 dev nstup0"}
	waitRoutes(t, a, wantA)
	waitRoutes(t, b, wantB)
	if !slices.Contains(a.ns.routes(t, "static"), "10.99.0.0/16 via 192.0.2.254 dev nstup0") {
		t.Errorf("the operator's route on node A is gone: %v", a.ns.routes(t, "static"))
	}
	for _, n := range []*routeNode{a, b} {
		if !n.skipped("nst-far", "not in a subnet directly connected") {
			t.Errorf("node %s: far node not reported; reports %v", n.name, n.reports())
		}
	}

	// Pod to pod across the nodes, both families, from the pod addresses.
	a.ns.Exec(t, "ping", "-c1", "-W5", "-I", "10.61.0.1", "10.61.1.1")
	a.ns.Exec(t, "ping", "-6", "-c1", "-W5", "-I", "fd61::1", "fd61:1::1")

	// A restarted agent changes nothing.
	stopA()
	before := a.ns.routes(t, "158")
	stopA = a.start(t, client)
	waitReady(t, a)
	if got := a.ns.routes(t, "158"); !slices.Equal(got, before) {
		t.Errorf("after restart node A has %v, before %v", got, before)
	}

	// Node B leaves the cluster: node A drops its routes.
	client.Delete(b.node())
	waitRoutes(t, a, nil)

	// Switched off, the agents leave no route of ours and the operator's.
	stopA()
	stopB()
	for _, n := range []*routeNode{a, b} {
		if err := n.reconciler().Clean(); err != nil {
			t.Fatalf("node %s: %v", n.name, err)
		}
		if got := n.ns.routes(t, "158"); len(got) != 0 {
			t.Errorf("node %s keeps routes of ours after Clean: %v", n.name, got)
		}
	}
	if len(a.ns.routes(t, "static")) != 1 {
		t.Errorf("Clean deleted the operator's route: %v", a.ns.routes(t, "static"))
	}
}

// routeNode is one node of the test: a netns on the switch with a bridge
// holding the first address of its pod CIDRs, as vethbridge sets up.
type routeNode struct {
	name   string
	ns     routeNetns
	i      int
	status *podroutes.Status
	handle *netlink.Handle

	mu    sync.Mutex
	skips []podroutes.Skip
}

type routeNetns struct{ nstest.Netns }

func newRouteNode(t *testing.T, sw nstest.Netns, name string, i int) *routeNode {
	n := &routeNode{name: "nst-" + name + "-" + nstest.Rand(4), i: i, ns: routeNetns{nstest.NewNetns(t, "node"+name)}}
	port := fmt.Sprintf("nstsw%d", i)
	ns := n.ns.Name
	nstest.Run(t, "ip", "-n", ns, "link", "add", "nstup0", "type", "veth", "peer", "name", port, "netns", sw.Name)
	nstest.Run(t, "ip", "-n", sw.Name, "link", "set", port, "master", "nstsw", "up")
	nstest.Run(t, "ip", "-n", ns, "addr", "add", fmt.Sprintf("192.0.2.%d/24", i+1), "dev", "nstup0")
	nstest.Run(t, "ip", "-n", ns, "addr", "add", fmt.Sprintf("fd00:2::%d/64", i+1), "dev", "nstup0", "nodad")
	nstest.Run(t, "ip", "-n", ns, "link", "set", "nstup0", "up")
	nstest.Run(t, "ip", "-n", ns, "link", "add", "nstpods", "type", "bridge")
	nstest.Run(t, "ip", "-n", ns, "addr", "add", fmt.Sprintf("10.61.%d.1/24", i), "dev", "nstpods")
	nstest.Run(t, "ip", "-n", ns, "addr", "add", n.podCIDR6(1), "dev", "nstpods", "nodad")
	nstest.Run(t, "ip", "-n", ns, "link", "set", "nstpods", "up")
	// Through /proc, not sysctl(8): the VM guest has only sh.
	n.ns.SetSysctl(t, "net/ipv4/ip_forward", "1")
	n.ns.SetSysctl(t, "net/ipv6/conf/all/forwarding", "1")
	return n
}

func (n *routeNode) podCIDR6(host int) string {
	if n.i == 0 {
		return fmt.Sprintf("fd61::%d/64", host)
	}
	return fmt.Sprintf("fd61:%d::%d/64", n.i, host)
}

func (n *routeNode) node() *corev1.Node {
	v6 := strings.TrimSuffix(n.podCIDR6(0), "0/64") + "/64"
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.name},
		Spec:       corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.61.%d.0/24", n.i), PodCIDRs: []string{fmt.Sprintf("10.61.%d.0/24", n.i), v6}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeHostName, Address: n.name},
			{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("192.0.2.%d", n.i+1)},
			{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("fd00:2::%d", n.i+1)},
		}},
	}
}

func (n *routeNode) reconciler() *podroutes.Reconciler {
	return &podroutes.Reconciler{Table: podroutes.Kernel{H: n.handle}, Node: n.name, Proto: podroutes.Protocol}
}

// start runs the agent until the returned function is called (or the
// test ends); the function waits for the agent to return.
func (n *routeNode) start(t *testing.T, client cache.ListerWatcher) func() {
	t.Helper()
	n.open(t)
	n.status = &podroutes.Status{}
	ag := &podroutes.Agent{
		Reconciler: n.reconciler(),
		Status:     n.status,
		Reporter:   n,
		Log:        slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Resync:     time.Minute,
		Now:        time.Now,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx, client) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent of node %s: %v", n.name, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// open makes a netlink handle inside the node's netns, once.
func (n *routeNode) open(t *testing.T) {
	t.Helper()
	if n.handle != nil {
		return
	}
	h, err := netns.GetFromPath(n.ns.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	// Only NETLINK_ROUTE: the default list needs xfrm, absent from some kernels.
	nh, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nh.Close)
	n.handle = nh
}

func (n *routeNode) Skipped(s podroutes.Skip) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.skips = append(n.skips, s)
}

func (n *routeNode) reports() []podroutes.Skip {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.skips)
}

func (n *routeNode) skipped(node, reason string) bool {
	for _, s := range n.reports() {
		if s.Node == node && strings.Contains(s.Reason, reason) {
			return true
		}
	}
	return false
}

// routes is `ip -j route show proto P` in both families, as
// "DST via GW dev DEV", sorted.
func (n routeNetns) routes(t *testing.T, proto string) []string {
	t.Helper()
	var out []string
	for _, fam := range []string{"-4", "-6"} {
		var rs []struct {
			Dst, Gateway, Dev string
		}
		js := nstest.Run(t, "ip", "-j", fam, "-n", n.Name, "route", "show", "proto", proto)
		if err := json.Unmarshal([]byte(js), &rs); err != nil {
			t.Fatalf("ip -j route: %v: %s", err, js)
		}
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s via %s dev %s", r.Dst, r.Gateway, r.Dev))
		}
	}
	slices.Sort(out)
	return out
}

// waitRoutes waits until the node's routes of ours are want; the deadline
// only guards against a hang.
func waitRoutes(t *testing.T, n *routeNode, want []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := n.ns.routes(t, "158")
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: routes of ours %q, want %q", n.name, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitReady(t *testing.T, n *routeNode) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !n.status.Ready() {
		if time.Now().After(deadline) {
			t.Fatalf("node %s: agent never ready:\n%s", n.name, n.status.Metrics())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
