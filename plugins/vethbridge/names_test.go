package main

import (
	"strings"
	"testing"

	"github.com/netsteer/netsteer/pkg/cnierr"
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

// Two attachments whose host veth names collide (issue 9, class 5): the
// collision is forced by planting the other attachment's veth under our
// name, as a colliding container ID would. ADD refuses with code 104
// naming both and leaves it; DEL of ours succeeds and leaves it too.
func TestCollidingVethIsNeverTouched(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1")
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	name := hostVethName("unit", "c1", "eth0")
	theirs := vethAlias("unit", "c9", "eth0")
	n.links[name] = HostVeth{Name: name, Alias: theirs, Master: "nstbr0"}
	want := "host link " + name + " master=nstbr0 alias=" + theirs

	c, err := p.load(cmdArgs("c1", "/run/netns/c1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.add(c, cmdArgs("c1", "/run/netns/c1"), fakeNS(cmdArgs("c1", "/run/netns/c1")))
	err = cnierr.Outcome(err)
	ours := vethAlias("unit", "c1", "eth0")
	if !cnierr.IsCollision(err) || !strings.Contains(err.Error(), theirs) || !strings.Contains(err.Error(), ours) {
		t.Errorf("ADD = %v, want code 104 naming %q and %q", err, theirs, ours)
	}
	if !strings.Contains(n.String(), want) {
		t.Errorf("ADD touched the other attachment's veth:\n%s", n.String())
	}
	if _, ok := n.ipam.Reserved["c1/eth0"]; ok {
		t.Error("the refused ADD kept its IPAM reservation")
	}
	if err := p.Del(cmdArgs("c1", "/run/netns/c1")); err != nil {
		t.Errorf("DEL: %v", err)
	}
	if !strings.Contains(n.String(), want) {
		t.Errorf("DEL deleted the other attachment's veth:\n%s", n.String())
	}
}

// TestDelFindsTheLegacyVethName: builds before the 72-bit names called the
// host veth "nsv" and 12 hex digits. A pod such a build attached is
// released by DEL after an upgrade: its veth (our alias) goes, and a
// legacy-named veth carrying another attachment's alias stays.
func TestDelFindsTheLegacyVethName(t *testing.T) {
	legacy := legacyHostVethName("unit", "c1", "eth0")
	if legacy != "nsv245aefba4389" { // sha256("unit\x00c1\x00eth0\x00"), as those builds named it
		t.Fatalf("legacyHostVethName = %q, want the old scheme's nsv245aefba4389", legacy)
	}
	for _, tc := range []struct {
		name, alias string
		gone        bool
	}{
		{"ours", vethAlias("unit", "c1", "eth0"), true},
		{"another attachment's", vethAlias("unit", "c9", "eth0"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			n.links[legacy] = HostVeth{Name: legacy, Alias: tc.alias, Master: "nstbr0"}
			if err := n.plugin().Del(cmdArgs("c1", "/run/netns/c1")); err != nil {
				t.Fatalf("DEL: %v", err)
			}
			if _, left := n.links[legacy]; left == tc.gone {
				t.Errorf("after DEL, veth %s present = %v, want %v:\n%s", legacy, left, !tc.gone, n)
			}
		})
	}
}
