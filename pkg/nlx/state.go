package nlx

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Route is a route as the kernel reports it: masked destination and gateway.
type Route struct {
	Dst netip.Prefix
	GW  netip.Addr
}

// L3 is what CHECK compares with a CNI result: one interface's addresses
// and the routes of its netns.
type L3 struct {
	Addrs  []netip.Prefix
	Routes []Route
}

// ReadL3 reads l's addresses and every route of the current netns.
// Equivalent to: ip addr show dev $l; ip route show; ip -6 route show
func ReadL3(l netlink.Link) (L3, error) {
	addrs, err := RetryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(l, netlink.FAMILY_ALL) })
	if err != nil {
		return L3{}, fmt.Errorf("listing addresses of %s: %w", l.Attrs().Name, err)
	}
	var out L3
	for _, a := range addrs {
		if p, ok := Prefix(*a.IPNet); ok {
			out.Addrs = append(out.Addrs, p)
		}
	}
	routes, err := RetryDump(func() ([]netlink.Route, error) { return netlink.RouteList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return L3{}, fmt.Errorf("listing routes: %w", err)
	}
	out.Routes = Routes(routes)
	return out, nil
}

// Routes renders netlink routes; a default route has no Dst in netlink's
// answer, so it gets its family's zero prefix.
func Routes(routes []netlink.Route) []Route {
	out := make([]Route, 0, len(routes))
	for _, r := range routes {
		rt := Route{Dst: netip.PrefixFrom(netip.IPv4Unspecified(), 0)}
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

// CheckL3 names the first address of res on interface idx (or on no
// interface in particular) and the first route of res missing from have.
func CheckL3(res *current.Result, idx int, ifname string, have L3) error {
	for _, ip := range res.IPs {
		if ip.Interface != nil && *ip.Interface != idx {
			continue
		}
		if want, ok := Prefix(ip.Address); ok && !slices.Contains(have.Addrs, want) {
			return fmt.Errorf("container interface %s: address %s missing", ifname, want)
		}
	}
	for _, r := range res.Routes {
		if !hasRoute(have.Routes, r) {
			return fmt.Errorf("container netns: route %s via %v missing", r.Dst.String(), r.GW)
		}
	}
	return nil
}

func hasRoute(routes []Route, r *types.Route) bool {
	dst, ok := Prefix(r.Dst)
	if !ok {
		return false
	}
	gw, _ := netip.AddrFromSlice(r.GW)
	return slices.ContainsFunc(routes, func(got Route) bool {
		return got.Dst == dst.Masked() && (r.GW == nil || got.GW == gw.Unmap())
	})
}

// WriteSysctls writes each setting, in order, inside target.
func WriteSysctls(target *netns.NS, settings []netconf.Setting) error {
	return target.Do(func() error {
		for _, s := range settings {
			if err := ProcSys.Write(s.Key, s.Value); err != nil {
				return fmt.Errorf("sysctl %s=%q in the container: %w", s.Key, s.Value, err)
			}
		}
		return nil
	})
}

// ReadSysctls reads keys from the current netns's /proc/sys.
func ReadSysctls(keys []sysctl.Key) (map[sysctl.Key]string, error) {
	out := make(map[sysctl.Key]string, len(keys))
	for _, k := range keys {
		v, err := ProcSys.Read(k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// CheckSysctls names the first setting whose value in have differs.
func CheckSysctls(want []netconf.Setting, have map[sysctl.Key]string) error {
	for _, s := range want {
		if got := have[s.Key]; got != s.Value {
			return fmt.Errorf("sysctl %s in the container is %q, want %q", s.Key, got, s.Value)
		}
	}
	return nil
}

// Keys lists the keys of settings, in order.
func Keys(settings []netconf.Setting) []sysctl.Key {
	keys := make([]sysctl.Key, len(settings))
	for i, s := range settings {
		keys[i] = s.Key
	}
	return keys
}
