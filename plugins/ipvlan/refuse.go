package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/netconf"
)

// refuseEarly is the part of ADD's validation that needs more than the
// config but changes nothing, run before the first side effect so that a
// request ADD would refuse half-way is refused with nothing to roll back:
// what both plugins check (netconf.Early) and nothing more. Pod subnets
// are checked in Load without the node's addresses: ipvlan pods share
// their master's subnet by design.
func (p *Plugin) refuseEarly(c *Config, args *skel.CmdArgs) error {
	early := netconf.Early{IfName: args.IfName, PrevResult: c.PrevResult, Sysctls: c.Sysctls, PodSysctls: c.PodSysctls}
	return early.Refuse(p.Sysctl)
}
