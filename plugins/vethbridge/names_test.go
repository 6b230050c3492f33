package main

import (
	"net/netip"
	"strings"
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

func TestChainNames(t *testing.T) {
	for _, n := range []string{"a", "a-very-long-network-name-that-goes-on-and-on-and-on-for-64-bytes"} {
		for _, c := range []string{masqChain(n), fwdChain(n)} {
			if len(c) > 28 {
				t.Errorf("chain %q longer than 28 bytes", c)
			}
		}
	}
	if masqChain("a") == masqChain("b") {
		t.Error("chains of different networks collide")
	}
}

func TestRestoreInputAddsMissingJumpsToTheirTable(t *testing.T) {
	rs := RuleSet{Network: "n", Bridge: "br0", Masquerade: true, Subnets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}
	got := restoreInput(rs, jumps(rs))
	for _, want := range []string{
		"*nat\n:" + masqChain("n") + " - [0:0]\n",
		"-A " + masqChain("n") + " -j MASQUERADE\n-A POSTROUTING -s 10.1.0.0/24 -m comment --comment netsteer:n -j " + masqChain("n") + "\nCOMMIT\n",
		"-I FORWARD 1 -m comment --comment netsteer:n -j " + fwdChain("n") + "\nCOMMIT\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("restore input lacks %q:\n%s", want, got)
		}
	}
	if none := restoreInput(rs, nil); none != chainRules(rs) {
		t.Errorf("with no missing jumps the input should be the chains alone:\n%s", none)
	}
}
