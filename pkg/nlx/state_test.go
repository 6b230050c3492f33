package nlx

import (
	"net"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestRoutes(t *testing.T) {
	_, dst, _ := net.ParseCIDR("10.99.0.0/16")
	got := Routes([]netlink.Route{
		{Family: netlink.FAMILY_V4, Gw: net.ParseIP("10.23.0.1")},
		{Family: netlink.FAMILY_V6},
		{Family: netlink.FAMILY_V4, Dst: dst, Gw: net.ParseIP("10.23.0.1")},
	})
	want := []string{"0.0.0.0/0 via 10.23.0.1", "::/0 via invalid IP", "10.99.0.0/16 via 10.23.0.1"}
	if len(got) != len(want) {
		t.Fatalf("Routes = %v", got)
	}
	for i, r := range got {
		if s := r.Dst.String() + " via " + r.GW.String(); s != want[i] {
			t.Errorf("route %d = %s, want %s", i, s, want[i])
		}
	}
}
