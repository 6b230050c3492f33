package main

import (
	"strings"
	"testing"
)

func TestTempName(t *testing.T) {
	a := tempName("net", "c1", "eth0")
	for _, tc := range []struct {
		name string
		got  string
		same bool
	}{
		{"same attachment", tempName("net", "c1", "eth0"), true},
		{"other ifname", tempName("net", "c1", "eth1"), false},
		{"other container", tempName("net", "c2", "eth0"), false},
		{"other network", tempName("net2", "c1", "eth0"), false},
		{"no ambiguity across the separator", tempName("netc", "1", "eth0"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.got == a) != tc.same {
				t.Errorf("tempName = %q vs %q, want same=%v", tc.got, a, tc.same)
			}
			if len(tc.got) != 15 || !strings.HasPrefix(tc.got, "nsi") {
				t.Errorf("tempName = %q, want \"nsi\" and 12 hash characters", tc.got)
			}
		})
	}
}

func TestLinkAlias(t *testing.T) {
	for _, tc := range []struct{ network, id, ifname, want string }{
		{"mynet", "abc", "eth0", "netsteer:mynet:abc:eth0"},
		{"a.b_c", "cnitool-1234", "eth0.100", "netsteer:a.b_c:cnitool-1234:eth0.100"},
	} {
		if got := linkAlias(tc.network, tc.id, tc.ifname); got != tc.want {
			t.Errorf("linkAlias(%q, %q, %q) = %q, want %q", tc.network, tc.id, tc.ifname, got, tc.want)
		}
	}
	// The longest attachment fits IFALIASZ (256 with the NUL).
	long := linkAlias(strings.Repeat("n", 64), strings.Repeat("c", 128), strings.Repeat("i", 15))
	if len(long) > 255 {
		t.Errorf("alias of the longest attachment is %d bytes, over IFALIASZ", len(long))
	}
}
