package main

import (
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/steps"
)

// attachment is one ADD in progress: the config, the CNI args, and what
// the steps have learned so far.
type attachment struct {
	p    *Plugin
	c    *Config
	args *skel.CmdArgs
	// ns is CNI_NETNS, opened and verified once; no step uses the path.
	ns     *netns.NS
	master Master
	// port is the master's port record, locked from the conflict check
	// until the link exists; nil for a master in the pod's netns.
	port *portLock

	link Link
	// l3 holds the addresses, routes and DNS the interface gets: IPAM's
	// result, or prevResult when chained without IPAM.
	l3 *current.Result
}

// Add is CNI ADD. Everything that can refuse the request runs first and
// changes nothing; then the steps run in order, and any failure runs DEL.
func (p *Plugin) Add(args *skel.CmdArgs) error {
	return netconf.InNetns(args, p.load, p.OpenNetns, func(c *Config, target *netns.NS) error {
		return p.addIn(c, args, target)
	})
}

// addIn is ADD with CNI_NETNS open: the refusals that change nothing, then
// the steps, then the result in the config's version.
func (p *Plugin) addIn(c *Config, args *skel.CmdArgs, target *netns.NS) error {
	if err := p.refuseEarly(c, args); err != nil { // issue 9: before any side effect
		return err
	}
	a, err := p.add(c, args, target)
	if err != nil {
		return err
	}
	return types.PrintResult(a.result(), c.CNIVersion)
}

// add is ADD after the config and CNI_NETNS passed their checks.
func (p *Plugin) add(c *Config, args *skel.CmdArgs, target *netns.NS) (*attachment, error) {
	master, err := p.preflight(c, args, target)
	if err != nil {
		return nil, err
	}
	port, err := p.claimPort(c, args, master)
	if err != nil {
		return nil, err
	}
	defer port.close()
	a := &attachment{p: p, c: c, args: args, ns: target, master: master, port: port}
	if err := p.Steps.Run(a.steps(), func() error { return p.del(c, args, target) }); err != nil {
		return nil, cnierr.Outcome(err)
	}
	return a, nil
}

// preflight checks what ADD needs from the netns and the master, and
// returns the master. It creates nothing.
func (p *Plugin) preflight(c *Config, args *skel.CmdArgs, target *netns.NS) (Master, error) {
	exists, err := p.Container.HasLink(target, args.IfName)
	if err := netconf.IfNameFree(args, exists, err); err != nil {
		return Master{}, err // not rolled back: that interface is not ours
	}
	if c.IPAMType == "" && (c.PrevResult == nil || len(c.PrevResult.IPs) == 0) {
		return Master{}, cnierr.InvalidConfig("ipam", "(absent)", "required unless chained after a plugin whose result has IPs")
	}
	m, err := p.addMaster(c, target)
	if err != nil {
		return Master{}, err
	}
	if err := portConflict(c, m); err != nil {
		return Master{}, err
	}
	if c.MTU > m.MTU {
		return Master{}, cnierr.InvalidConfig("mtu", c.MTU, fmt.Sprintf("above the MTU %d of master %s", m.MTU, m.Name))
	}
	return m, nil
}

// addMaster is the master ADD uses: the configured one, else a chained
// plugin's interface, else the default route's.
func (p *Plugin) addMaster(c *Config, target *netns.NS) (Master, error) {
	name := c.Master
	if name == "" {
		var err error
		if name, err = c.chainedMaster(); err != nil {
			return Master{}, err
		}
	}
	return p.lookupMaster(c, target, name)
}

// lookupMaster finds the master by name, or by the default route when
// name is empty, in the container netns when linkInContainer.
func (p *Plugin) lookupMaster(c *Config, target *netns.NS, name string) (Master, error) {
	var where *netns.NS
	if c.LinkInContainer {
		where = target
	}
	m, err := p.Masters.Lookup(where, name)
	switch {
	case err == nil:
		return m, nil
	case name == "":
		// A node whose uplink is still coming up has no default route yet.
		return Master{}, cnierr.TryAgain(fmt.Errorf("finding the master: no \"master\" given and %w", err))
	default:
		return Master{}, cnierr.InvalidConfig("master", name, err.Error())
	}
}

// steps is ADD in order. Each step is idempotent. Sysctls come before
// addresses because some (accept_dad, arp_ignore, rp_filter) only act on
// addresses added after them.
func (a *attachment) steps() []steps.Step {
	return []steps.Step{
		{Name: "link", Do: a.addLink},
		{Name: "rename", Do: a.rename},
		{Name: "sysctls", Do: a.writeSysctls},
		{Name: "ipam", Do: a.allocate},
		{Name: "addresses", Do: a.configure},
	}
}

// addLink creates the link, then releases the port record: from now on
// the link itself holds the port, and a DEL (the rollback included) can
// take the record to prune it.
func (a *attachment) addLink() error {
	defer a.port.close()
	return a.p.Container.AddIPVlan(IPVlanSpec{
		Netns:             a.ns,
		Name:              tempName(a.c.Network, a.args.ContainerID, a.args.IfName),
		Alias:             linkAlias(a.c.Network, a.args.ContainerID, a.args.IfName),
		Master:            a.master,
		MasterInContainer: a.c.LinkInContainer,
		Mode:              a.c.Mode,
		Flag:              a.c.Flag,
		MTU:               a.c.MTU,
	})
}

func (a *attachment) rename() (err error) {
	a.link, err = a.p.Container.Rename(a.ns, tempName(a.c.Network, a.args.ContainerID, a.args.IfName), a.args.IfName)
	return err
}

func (a *attachment) writeSysctls() error {
	settings, err := a.c.Sysctls.Resolve(a.p.Sysctl, a.args.IfName, a.c.PodSysctls)
	if err != nil || len(settings) == 0 {
		return err
	}
	return a.p.Container.WriteSysctls(a.ns, settings)
}

// allocate runs IPAM ADD, or takes prevResult's IPs when chained without IPAM.
func (a *attachment) allocate() error {
	if a.c.IPAMType == "" {
		a.l3 = a.c.PrevResult
		return nil
	}
	res, err := a.p.ipam(a.c).Add()
	a.l3 = res
	return err
}

func (a *attachment) configure() error {
	return a.p.Container.Configure(a.ns, a.args.IfName, a.result())
}

// result is prevResult's interfaces followed by the container interface,
// with every IP on the container interface. Upstream drops prevResult's
// interfaces; keeping them passes the chain's result through, and CHECK
// finds a chained master in them.
func (a *attachment) result() *current.Result {
	res := &current.Result{CNIVersion: current.ImplementedSpecVersion}
	if a.c.PrevResult != nil {
		res.Interfaces = append(res.Interfaces, a.c.PrevResult.Interfaces...)
	}
	idx := len(res.Interfaces)
	res.Interfaces = append(res.Interfaces, &current.Interface{
		Name: a.link.Name, Mac: a.link.MAC.String(), Sandbox: a.args.Netns,
	})
	if a.l3 != nil {
		for _, ip := range a.l3.IPs {
			cp := *ip
			cp.Interface = current.Int(idx)
			res.IPs = append(res.IPs, &cp)
		}
		res.Routes = a.l3.Routes
		res.DNS = a.l3.DNS
	}
	if !netconf.IsEmptyDNS(a.c.DNS) {
		res.DNS = a.c.DNS
	}
	return res
}
