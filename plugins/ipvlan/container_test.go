package main

import (
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
