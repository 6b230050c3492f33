package main

import (
	"net"
	"testing"

	"github.com/vishvananda/netlink"
)

// The adapters translate modes and flags both ways; CHECK compares what
// the kernel reports with the config, so each must round-trip.
func TestModeAndFlagRoundTrip(t *testing.T) {
	for _, m := range []Mode{ModeL2, ModeL3, ModeL3S} {
		if got := modeOf(netlinkMode(m)); got != m {
			t.Errorf("mode %s round-trips to %s", m, got)
		}
	}
	for _, f := range []Flag{FlagBridge, FlagPrivate, FlagVEPA} {
		if got := flagOf(netlinkFlag(f)); got != f {
			t.Errorf("flag %s round-trips to %s", f, got)
		}
	}
	if got := modeOf(netlink.IPVLAN_MODE_MAX); got == ModeL2 || got == ModeL3 || got == ModeL3S {
		t.Errorf("an unknown kernel mode reads as %s", got)
	}
}

func TestRoutesOf(t *testing.T) {
	_, dst, _ := net.ParseCIDR("10.99.0.0/16")
	got := routesOf([]netlink.Route{
		{Family: netlink.FAMILY_V4, Gw: net.ParseIP("10.23.0.1")},
		{Family: netlink.FAMILY_V6},
		{Family: netlink.FAMILY_V4, Dst: dst, Gw: net.ParseIP("10.23.0.1")},
	})
	want := []string{"0.0.0.0/0 via 10.23.0.1", "::/0 via invalid IP", "10.99.0.0/16 via 10.23.0.1"}
	if len(got) != len(want) {
		t.Fatalf("routesOf = %v", got)
	}
	for i, r := range got {
		if s := r.Dst.String() + " via " + r.GW.String(); s != want[i] {
			t.Errorf("route %d = %s, want %s", i, s, want[i])
		}
	}
}
