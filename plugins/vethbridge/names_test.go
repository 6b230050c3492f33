package main

import (
	"testing"
)

func TestHostVethName(t *testing.T) {
	a := hostVethName("net", "c1", "eth0")
	for _, tc := range []struct {
		name string
		got  string
		same bool
	}{
		{"same attachment", hostVethName("net", "c1", "eth0"), true},
		{"other ifname", hostVethName("net", "c1", "eth1"), false},
		{"other container", hostVethName("net", "c2", "eth0"), false},
		{"other network", hostVethName("net2", "c1", "eth0"), false},
		{"no ambiguity across the separator", hostVethName("netc", "1", "eth0"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.got == a) != tc.same {
				t.Errorf("hostVethName = %q vs %q, want same=%v", tc.got, a, tc.same)
			}
			if len(tc.got) != 15 {
				t.Errorf("len(%q) = %d, want 15", tc.got, len(tc.got))
			}
		})
	}
}

func TestAliasRoundTrip(t *testing.T) {
	for _, tc := range []struct{ network, id, ifname string }{
		{"mynet", "abc", "eth0"},
		{"k8s-pod-network", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "net1"},
		{"a.b_c", "cnitool-1234", "eth0.100"},
	} {
		alias := vethAlias(tc.network, tc.id, tc.ifname)
		n, id, ifn, ok := parseAlias(alias)
		if !ok || n != tc.network || id != tc.id || ifn != tc.ifname {
			t.Errorf("parseAlias(%q) = %q %q %q %v", alias, n, id, ifn, ok)
		}
		if len(alias) > 255 {
			t.Errorf("alias %q longer than IFALIASZ", alias)
		}
	}
	for _, bad := range []string{"", "other:x:y:z", "netsteer:", "netsteer:a:b", "netsteer:a::c", "netsteer:a:b:c:d"} {
		if _, _, _, ok := parseAlias(bad); ok {
			t.Errorf("parseAlias(%q) accepted", bad)
		}
	}
}
