package main

import (
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/steps"
)

// refuseEarly is the part of ADD's validation that needs more than the
// config but changes nothing, run before the first side effect so that a
// request ADD would refuse half-way is refused with nothing to roll back:
// what both plugins check (netconf.Early), that macspoofchk can work, that
// the bridge name is free or a bridge, that no IPAM subnet may contain an
// address the node holds on a link other than the bridge, and that
// CNI_IFNAME is free in the pod. The checks only read, so they run at the
// same time; the answer is the first refusal in that order.
func (p *Plugin) refuseEarly(c *Config, args *skel.CmdArgs, target *netns.NS) error {
	early := netconf.Early{IfName: args.IfName, PrevResult: c.PrevResult, Sysctls: c.Sysctls, PodSysctls: c.PodSysctls}
	return steps.FirstError(
		func() error { return early.Refuse(p.Sysctl) },
		func() error {
			if err := p.spoofCheckUsable(c); err != nil {
				return cnierr.Wrap(cnierr.Netfilter, err)
			}
			return nil
		},
		func() error { return p.refuseBridgeName(c) },
		func() error { return p.refuseNodeSubnets(c) },
		func() error {
			exists, err := p.Container.HasLink(target, args.IfName)
			return netconf.IfNameFree(args, exists, err)
		})
}

// refuseBridgeName refuses a bridge name held by a link of another kind.
func (p *Plugin) refuseBridgeName(c *Config) error {
	kind, err := p.Host.LinkKind(c.Bridge)
	if err != nil {
		return cnierr.Wrap(cnierr.Kernel, fmt.Errorf("looking up bridge %s: %w", c.Bridge, err))
	}
	if kind != "" && kind != "bridge" {
		return cnierr.InvalidConfig("bridge", c.Bridge, fmt.Sprintf("a %s link of that name exists; it is not a bridge", kind))
	}
	return nil
}

// refuseNodeSubnets refuses an IPAM subnet that holds one of the node's
// addresses (netconf.ValidatePodSubnet).
func (p *Plugin) refuseNodeSubnets(c *Config) error {
	subnets, err := netconf.IPAMSubnets(c.Raw)
	if err != nil || len(subnets) == 0 {
		return err // none declared: checkAllocated checks what IPAM hands out
	}
	node, err := p.Host.NodeAddrs(netconf.FamiliesOf(subnets))
	if err != nil {
		return cnierr.Wrap(cnierr.Kernel, fmt.Errorf("listing the node's addresses: %w", err))
	}
	return netconf.ValidateSubnets(subnets, node, c.Bridge)
}

// checkAllocated refuses what IPAM handed out when it could not be checked
// up front (an IPAM plugin whose subnets the config does not show): the
// subnets become masquerade and forward rules, so they must pass the same
// test as configured ones. An address inside a configured subnet was
// checked with it by refuseEarly; only the others need the node's
// addresses listed again.
func (a *attachment) checkAllocated(res *current.Result) error {
	configured, err := netconf.IPAMSubnets(a.c.Raw)
	if err != nil {
		return err
	}
	var unchecked []netconf.KeyedPrefix
	for _, ip := range res.IPs {
		if pfx, ok := nlx.Prefix(ip.Address); ok && !netconf.Within(pfx, configured) {
			unchecked = append(unchecked, netconf.KeyedPrefix{Key: "ipam (allocated address)", Prefix: pfx})
		}
	}
	if len(unchecked) == 0 {
		return nil
	}
	node, err := a.p.Host.NodeAddrs(netconf.FamiliesOf(unchecked))
	if err != nil {
		return fmt.Errorf("listing the node's addresses: %w", err)
	}
	return netconf.ValidateSubnets(unchecked, node, a.c.Bridge)
}
