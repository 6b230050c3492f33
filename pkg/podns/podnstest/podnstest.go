// Package podnstest fakes the part of a pod's netns both plugins' fake
// worlds keep the same way: the sysctls written into it, and the routes
// a CNI result gives its interface, as podns.Kernel would read them back.
package podnstest

import (
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/ifstate"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Sysctls are pod sysctls keyed "<netns path>:<key path>"; a fake world
// renders them with its other state.
type Sysctls map[string]string

// Fresh is the sysctls of new netns at paths as the kernel makes them: a
// new netns does not inherit the host's tcp_keepalive_time but reads the
// kernel default, which inheritSysctls is there to fix.
func Fresh(paths ...string) Sysctls {
	s := Sysctls{}
	for _, p := range paths {
		s[p+":net/ipv4/tcp_keepalive_time"] = "7200"
	}
	return s
}

// Write records settings in target, as podns.Kernel.WriteSysctls does,
// unless injected (a fake world's failure injection for this call) is
// not nil: then it writes nothing and returns injected.
func (s Sysctls) Write(target *netns.NS, settings []sysctl.Setting, injected error) error {
	if injected != nil {
		return injected
	}
	for _, set := range settings {
		s[target.String()+":"+set.Key.Path()] = set.Value
	}
	return nil
}

// Read returns the values of keys in target; one never written reads "".
func (s Sysctls) Read(target *netns.NS, keys []sysctl.Key) map[sysctl.Key]string {
	out := map[sysctl.Key]string{}
	for _, k := range keys {
		out[k] = s[target.String()+":"+k.Path()]
	}
	return out
}

// Routes are routes as the kernel reports them once configured: the
// destination masked, the gateway unmapped.
func Routes(routes []*types.Route) []ifstate.Route {
	var out []ifstate.Route
	for _, r := range routes {
		d, _ := nlx.Prefix(r.Dst)
		gw, _ := netip.AddrFromSlice(r.GW)
		out = append(out, ifstate.Route{Dst: d.Masked(), GW: gw.Unmap()})
	}
	return out
}
