package main

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// kernelContainer is ContainerNet on netlink and procfs, entering the
// container netns on a locked thread for each call.
type kernelContainer struct{}

var _ ContainerNet = kernelContainer{}

func (kernelContainer) HasLink(netns, ifname string) (bool, error) { return nlx.HasLink(netns, ifname) }

func (kernelContainer) Configure(netns, ifname string, spec AddrSpec) error {
	return nlx.InNetns(netns, func() error {
		if spec.DisableDAD && hasIPv6(spec) {
			// Without DAD the addresses are usable at once; pods on one
			// bridge get unique addresses from IPAM anyway.
			k, err := sysctl.ParseKey("net/ipv6/conf/IFNAME/accept_dad", ifname)
			if err != nil {
				return err
			}
			if err := nlx.ProcSys.Write(k, "0"); err != nil {
				return fmt.Errorf("disabling DAD on %s: %w", ifname, err)
			}
		}
		if err := nlx.ConfigureInterface(ifname, spec.Result); err != nil {
			return fmt.Errorf("configuring %s: %w", ifname, err)
		}
		return nil
	})
}

func hasIPv6(spec AddrSpec) bool {
	for _, ip := range spec.Result.IPs {
		if ip.Address.IP.To4() == nil {
			return true
		}
	}
	return false
}

func (kernelContainer) WriteSysctls(netns string, settings []netconf.Setting) error {
	return nlx.InNetns(netns, func() error {
		for _, s := range settings {
			if err := nlx.ProcSys.Write(s.Key, s.Value); err != nil {
				return fmt.Errorf("sysctl %s=%q in container: %w", s.Key, s.Value, err)
			}
		}
		return nil
	})
}

func (kernelContainer) Inspect(netns, ifname string, keys []sysctl.Key) (ContainerState, error) {
	var st ContainerState
	err := nlx.InNetns(netns, func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		st.MAC = l.Attrs().HardwareAddr
		st.Up = l.Attrs().Flags&net.FlagUp != 0
		addrs, err := nlx.RetryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(l, netlink.FAMILY_ALL) })
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if p, ok := nlx.Prefix(*a.IPNet); ok {
				st.Addrs = append(st.Addrs, p)
			}
		}
		routes, err := nlx.RetryDump(func() ([]netlink.Route, error) { return netlink.RouteList(nil, netlink.FAMILY_ALL) })
		if err != nil {
			return err
		}
		st.Routes = routesOf(routes)
		st.Sysctls = map[sysctl.Key]string{}
		for _, k := range keys {
			if st.Sysctls[k], err = nlx.ProcSys.Read(k); err != nil {
				return err
			}
		}
		return nil
	})
	return st, err
}

func routesOf(routes []netlink.Route) []Route {
	var out []Route
	for _, r := range routes {
		var rt Route
		if r.Dst != nil {
			rt.Dst, _ = nlx.Prefix(*r.Dst)
		} else if r.Family == netlink.FAMILY_V6 {
			rt.Dst = netip.MustParsePrefix("::/0")
		} else {
			rt.Dst = netip.MustParsePrefix("0.0.0.0/0")
		}
		rt.Dst = rt.Dst.Masked()
		if gw, ok := netip.AddrFromSlice(r.Gw); ok {
			rt.GW = gw.Unmap()
		}
		out = append(out, rt)
	}
	return out
}
