package main

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// kernelContainer is ContainerNet on netlink and procfs, entering the
// container netns on a locked thread for each call.
type kernelContainer struct {
	// proc is /proc/sys; read and written on a thread inside the
	// container netns, it shows that namespace's net.* values.
	proc sysctl.FS
}

var _ ContainerNet = kernelContainer{}

func (kernelContainer) HasLink(target *netns.NS, ifname string) (bool, error) {
	return nlx.HasLink(target, ifname)
}

func (c kernelContainer) Configure(target *netns.NS, ifname string, spec AddrSpec) error {
	return target.Do(func() error {
		if spec.DisableDAD && hasIPv6(spec) {
			// Without DAD the addresses are usable at once; pods on one
			// bridge get unique addresses from IPAM anyway.
			k, err := sysctl.ParseKey("net/ipv6/conf/IFNAME/accept_dad", ifname)
			if err != nil {
				return err
			}
			if err := c.proc.Write(k, "0"); err != nil {
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

func (c kernelContainer) WriteSysctls(target *netns.NS, settings []netconf.Setting) error {
	return target.Do(func() error { return c.proc.WriteSettings(settings) })
}

func (c kernelContainer) Inspect(target *netns.NS, ifname string, keys []sysctl.Key) (ContainerState, error) {
	var st ContainerState
	err := target.Do(func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		st.MAC = l.Attrs().HardwareAddr
		st.Up = l.Attrs().Flags&net.FlagUp != 0
		if st.L3, err = nlx.ReadL3(l); err != nil {
			return err
		}
		st.Sysctls, err = c.proc.ReadKeys(keys)
		return err
	})
	return st, err
}
