package podroutes_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNoMasqueradeCIDRs(t *testing.T) {
	svc := netip.MustParsePrefix("10.96.0.0/12")
	for _, tc := range []struct {
		name  string
		nodes []podroutes.Node
		opts  podroutes.NoMasq
		want  string
		skips int
	}{
		{"nodes as they are", cluster, podroutes.NoMasq{},
			"[10.244.1.0/24 10.244.2.0/23 fd00:244:1::/64 fd00:244:2::/64]", 0},
		{"siblings merge", []podroutes.Node{node("a", "10.244.0.0/24", ""), node("b", "10.244.1.0/24", ""), node("c", "10.244.2.0/24", ""), node("d", "10.244.3.0/24", "")},
			podroutes.NoMasq{}, "[10.244.0.0/22]", 0},
		{"widened to the cluster CIDR, with the Service CIDR", cluster, podroutes.NoMasq{Bits4: 16, Bits6: 32, Extra: []netip.Prefix{svc}},
			"[10.96.0.0/12 10.244.0.0/16 fd00:244::/32]", 0},
		{"covered extra dropped", cluster, podroutes.NoMasq{Extra: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}},
			"[10.244.0.0/16 fd00:244:1::/64 fd00:244:2::/64]", 0},
		{"hostile CIDRs left out", []podroutes.Node{node("a", "0.0.0.0/0,10.244.0.0/24,::ffff:10.0.0.0/104", "")},
			podroutes.NoMasq{}, "[10.244.0.0/24]", 2},
		{"no nodes", nil, podroutes.NoMasq{Extra: []netip.Prefix{svc}}, "[10.96.0.0/12]", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, skips, err := podroutes.NoMasqueradeCIDRs(tc.nodes, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(got); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
			if len(skips) != tc.skips {
				t.Errorf("skips %v, want %d", skips, tc.skips)
			}
		})
	}
}

func TestNoMasqueradeCIDRsBadOptions(t *testing.T) {
	for _, o := range []podroutes.NoMasq{
		{Bits4: 4},
		{Bits4: 33},
		{Bits6: 8},
		{Bits6: -1},
		{Extra: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
		{Extra: []netip.Prefix{netip.MustParsePrefix("10.96.0.1/12")}},
	} {
		if _, _, err := podroutes.NoMasqueradeCIDRs(cluster, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
