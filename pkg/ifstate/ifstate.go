// Package ifstate is a container interface's L3 state as the kernel
// reports it, and the pure comparisons CHECK makes between it and a CNI
// result or the wanted sysctls. Nothing here touches the kernel, so the
// tests cover each drift without root.
package ifstate

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/netconf"
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

// CheckL3 names the first address of res on interface idx (or on no
// interface in particular) and the first route of res missing from have.
func CheckL3(res *current.Result, idx int, ifname string, have L3) error {
	for _, ip := range res.IPs {
		if ip.Interface != nil && *ip.Interface != idx {
			continue
		}
		if want, ok := prefix(ip.Address); ok && !slices.Contains(have.Addrs, want) {
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
	dst, ok := prefix(r.Dst)
	if !ok {
		return false
	}
	gw, _ := netip.AddrFromSlice(r.GW)
	return slices.ContainsFunc(routes, func(got Route) bool {
		return got.Dst == dst.Masked() && (r.GW == nil || got.GW == gw.Unmap())
	})
}

// CheckSysctls names the first setting whose value in have differs.
func CheckSysctls(want []netconf.Setting, have map[sysctl.Key]string) error {
	for _, s := range want {
		got, ok := have[s.Key]
		switch {
		case !ok && s.FromGlob:
			continue // the pod's netns cannot take it: ADD skipped it
		case !ok:
			return fmt.Errorf("sysctl %s is absent or read-only in the container, want %q", s.Key, s.Value)
		}
		if got != s.Value {
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

// prefix converts a net.IPNet to a netip.Prefix, keeping the host bits.
func prefix(n net.IPNet) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr.Unmap(), ones), true
}
