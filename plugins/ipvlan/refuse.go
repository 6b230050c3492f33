package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
)

// refuseEarly is the part of ADD's validation that needs more than the
// config but changes nothing, run before the first side effect so that a
// request ADD would refuse half-way is refused with nothing to roll back:
// CNI_IFNAME must be a literal link name, prevResult within bounds, and the
// sysctls resolvable against the host (inherited keys exist, are writable
// and stay in the pod's netns). Pod subnets are checked in Load without the
// node's addresses: ipvlan pods share their master's subnet by design.
func (p *Plugin) refuseEarly(c *Config, args *skel.CmdArgs) error {
	if err := netconf.ValidateNewIfName(args.IfName); err != nil {
		return err
	}
	if err := netconf.CheckResultBounds(c.PrevResult); err != nil {
		return err
	}
	if _, err := c.Sysctls.Resolve(p.Sysctl, args.IfName, c.PodSysctls); err != nil {
		return cnierr.Wrap(cnierr.Kernel, err)
	}
	return nil
}
