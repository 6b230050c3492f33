package podroutes_test

import (
	"strings"
	"testing"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

func TestParsePodCIDR(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"10.244.2.0/24", ""},
		{"fd00:244:2::/64", ""},
		{"0.0.0.0/0", "overlaps"},
		{"::/0", "overlaps"},
		{"128.0.0.0/1", "overlaps"},
		{"8000::/1", "overlaps"},
		{"127.0.0.0/16", "overlaps"},
		{"169.254.0.0/24", "overlaps"},
		{"224.0.0.0/24", "overlaps"},
		{"255.255.255.255/32", "overlaps"},
		{"fe80::/64", "overlaps"},
		{"ff02::/64", "overlaps"},
		{"::ffff:10.244.2.0/120", "IPv4-mapped"},
		{"10.244.2.1/24", "host bits"},
		{"010.244.2.0/24", "ParsePrefix"},
		{"fd00:244:2:0::/64", "canonical"},
		{"fe80::%eth0/64", "ParsePrefix"},
		{"10.244.2.0", "ParsePrefix"},
		{"", "ParsePrefix"},
		{"10.244.2.0/33", "ParsePrefix"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := podroutes.ParsePodCIDR(tc.in)
			checkErr(t, err, tc.err)
			if err != nil && !strings.Contains(err.Error(), `"`+tc.in+`"`) {
				t.Errorf("error %q does not name the value", err)
			}
		})
	}
}

func TestParseNodeIP(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"192.168.1.2", ""},
		{"fd00:1::2", ""},
		{"::ffff:192.168.1.2", "IPv4-mapped"},
		{"fe80::1%eth0", "canonical"},
		{"fe80::1", "overlaps"},
		{"127.0.0.1", "overlaps"},
		{"0.0.0.0", "overlaps"},
		{"::", "overlaps"},
		{"224.0.0.1", "overlaps"},
		{"fd00:1:0::2", "canonical"},
		{"192.168.1.2/24", "ParseAddr"},
		{"node2", "ParseAddr"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := podroutes.ParseNodeIP(tc.in)
			checkErr(t, err, tc.err)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("error %v, want one containing %q", err, want)
	}
}

// Each hostile or unreachable peer is refused with a reason, and the good
// peer beside it is still routed.
func TestPlanRefuses(t *testing.T) {
	good := node("good", "10.244.2.0/24", "192.168.1.2")
	for _, tc := range []struct {
		name   string
		peer   podroutes.Node
		reason string
	}{
		{"other L2 segment", node("far", "10.244.5.0/24", "192.168.2.5"), "not in a subnet directly connected"},
		{"default route", node("p", "0.0.0.0/0", "192.168.1.5"), "overlaps"},
		{"contains our InternalIP", node("p", "192.168.0.0/16", "192.168.1.5"), "directly connected on eth0"},
		{"contains our loopback address", node("p", "10.0.0.0/24", "192.168.1.5"), "directly connected on lo"},
		{"inside our L2 subnet", node("p", "192.168.1.128/25", "192.168.1.5"), "directly connected on eth0"},
		{"our own pod CIDR", node("p", "10.244.1.0/24", "192.168.1.5"), "directly connected on netsteer0"},
		{"our pod CIDR not yet on a bridge", node("p", "10.244.0.0/24", "192.168.1.5"), "own pod CIDR 10.244.0.0/24"},
		{"our address as gateway", node("p", "10.244.5.0/24", "192.168.1.1"), "is an address of this node"},
		{"mapped gateway", node("p", "10.244.5.0/24", "::ffff:192.168.1.5"), "IPv4-mapped"},
		{"no InternalIP", node("p", "10.244.5.0/24", ""), "no IPv4 InternalIP"},
		{"gateway of the other family only", node("p", "fd00:244:5::/64", "192.168.1.5"), "no IPv6 InternalIP"},
		{"second CIDR of one family", node("p", "10.244.5.0/24,10.244.6.0/24", "192.168.1.5"), "second pod CIDR"},
		{"overlaps the good peer", node("p", "10.244.2.0/25", "192.168.1.5"), "overlaps 10.244.2.0/24 of node good"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := node1Table()
			self := node("n1", "10.244.0.0/24", "192.168.1.1")
			routes, skips := podroutes.Plan(podroutes.Host{Node: "n1", Addrs: tb.Addr, Proto: 158}, []podroutes.Node{self, good, tc.peer})
			var found bool
			for _, s := range skips {
				found = found || s.Node == tc.peer.Name && strings.Contains(s.Reason, tc.reason)
			}
			if !found {
				t.Errorf("skips %v, want node %s refused for %q", skips, tc.peer.Name, tc.reason)
			}
			for _, r := range routes {
				if r.Dst.String() != "10.244.2.0/24" && !(tc.name == "second CIDR of one family" && r.Dst.String() == "10.244.5.0/24") {
					t.Errorf("routed %s", r)
				}
			}
		})
	}
}

// Two peers claiming overlapping CIDRs are both refused: neither can be
// trusted over the other.
func TestPlanConflictRefusesBoth(t *testing.T) {
	tb := node1Table()
	routes, skips := podroutes.Plan(podroutes.Host{Node: "n1", Addrs: tb.Addr, Proto: 158}, []podroutes.Node{
		node("a", "10.244.2.0/24", "192.168.1.2"),
		node("b", "10.244.2.0/24", "192.168.1.3"),
	})
	if len(routes) != 0 || len(skips) != 2 {
		t.Errorf("routes %v skips %v, want none routed and both refused", routes, skips)
	}
}

// The route goes out of the link whose subnet holds the gateway, the
// longest prefix winning.
func TestPlanPicksLongestConnectedSubnet(t *testing.T) {
	h := podroutes.Host{Node: "n1", Proto: 158, Addrs: node1Table().Addr}
	h.Addrs = append(h.Addrs, podroutes.HostAddr{Prefix: mustPrefix(t, "192.168.1.129/25"), Dev: "eth1"})
	routes, _ := podroutes.Plan(h, []podroutes.Node{node("p", "10.244.5.0/24", "192.168.1.200")})
	if len(routes) != 1 || routes[0].Dev != "eth1" {
		t.Errorf("routes %v, want one via eth1", routes)
	}
}
