package main

import (
	"fmt"
	"net"

	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/podns"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// kernelContainer is ContainerNet on netlink and procfs, entering the
// container netns on a locked thread for each call; HasLink, WriteSysctls
// and the reading behind Inspect are podns.Kernel's.
type kernelContainer struct{ podns.Kernel }

var _ ContainerNet = kernelContainer{}

func (c kernelContainer) Configure(target *netns.NS, ifname string, spec AddrSpec) error {
	return target.Do(func() error {
		if spec.DisableDAD && hasIPv6(spec) {
			// Without DAD the addresses are usable at once; pods on one
			// bridge get unique addresses from IPAM anyway.
			k, err := sysctl.ParseKey("net/ipv6/conf/IFNAME/accept_dad", ifname)
			if err != nil {
				return err
			}
			if err := c.Proc.Write(k, "0"); err != nil {
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

func (c kernelContainer) Inspect(target *netns.NS, ifname string, keys []sysctl.Key) (ContainerState, error) {
	l, err := c.ReadLink(target, ifname, keys)
	if err != nil {
		return ContainerState{}, err
	}
	a := l.Attrs()
	return ContainerState{MAC: a.HardwareAddr, Up: a.Flags&net.FlagUp != 0, L3: l.L3, Sysctls: l.Sysctls}, nil
}
