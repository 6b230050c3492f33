package nlx

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/ifstate"
)

// Routes renders netlink routes; a default route has no Dst in netlink's
// answer, so it gets its family's zero prefix.
func Routes(routes []netlink.Route) []ifstate.Route {
	out := make([]ifstate.Route, 0, len(routes))
	for _, r := range routes {
		rt := ifstate.Route{Dst: netip.PrefixFrom(netip.IPv4Unspecified(), 0)}
		if r.Family == netlink.FAMILY_V6 {
			rt.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		if r.Dst != nil {
			if p, ok := Prefix(*r.Dst); ok {
				rt.Dst = p.Masked()
			}
		}
		if gw, ok := netip.AddrFromSlice(r.Gw); ok {
			rt.GW = gw.Unmap()
		}
		out = append(out, rt)
	}
	return out
}

// ReadL3 reads l's addresses and every route of the current netns.
// Equivalent to: ip addr show dev $l; ip route show; ip -6 route show
func ReadL3(l netlink.Link) (ifstate.L3, error) {
	addrs, err := RetryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(l, netlink.FAMILY_ALL) })
	if err != nil {
		return ifstate.L3{}, fmt.Errorf("listing addresses of %s: %w", l.Attrs().Name, err)
	}
	var out ifstate.L3
	for _, a := range addrs {
		if p, ok := Prefix(*a.IPNet); ok {
			out.Addrs = append(out.Addrs, p)
		}
	}
	routes, err := RetryDump(func() ([]netlink.Route, error) { return netlink.RouteList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return ifstate.L3{}, fmt.Errorf("listing routes: %w", err)
	}
	out.Routes = Routes(routes)
	return out, nil
}
