package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"slices"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/steps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// attachment is one ADD in progress: the config, the CNI args, and what
// the steps have learned so far.
type attachment struct {
	p    *Plugin
	c    *Config
	args *skel.CmdArgs
	// ns is CNI_NETNS, opened and verified once; no step uses the path.
	ns *netns.NS

	bridge, host, cont Link
	ipam               *current.Result
}

// Add is CNI ADD. Validation comes first and touches nothing; then the
// steps run in order, and any failure runs DEL.
func (p *Plugin) Add(args *skel.CmdArgs) error {
	return netconf.InNetns(args, p.load, p.OpenNetns, func(c *Config, target *netns.NS) error {
		return p.addIn(c, args, target)
	})
}

// addIn is ADD with CNI_NETNS open: the refusals that change nothing, then
// the steps, then the result in the config's version.
func (p *Plugin) addIn(c *Config, args *skel.CmdArgs, target *netns.NS) error {
	if err := p.refuseEarly(c, args, target); err != nil { // issue 9: before any side effect
		return err
	}
	a, err := p.add(c, args, target)
	if err != nil {
		return cnierr.Outcome(err)
	}
	return types.PrintResult(a.result(), c.CNIVersion)
}

// add runs ADD's steps for a validated config; any failure runs DEL.
func (p *Plugin) add(c *Config, args *skel.CmdArgs, target *netns.NS) (*attachment, error) {
	if err := p.resolveRPS(c); err != nil {
		return nil, err
	}
	a := &attachment{p: p, c: c, args: args, ns: target}
	if err := p.Steps.Run(a.steps(), func() error { return p.del(c, args) }); err != nil {
		return nil, err
	}
	return a, nil
}

// resolveRPS resolves "rps.cpus" against the node's CPU count before any
// step runs, so a mask naming CPUs the node lacks is refused (code 7)
// with nothing changed. Only ADD needs the count.
func (p *Plugin) resolveRPS(c *Config) error {
	if c.RPS == nil {
		return nil
	}
	ncpu, err := p.PossibleCPUs()
	if err != nil {
		return fmt.Errorf("rps: %w", err)
	}
	c.RPS.CPUs, err = c.RPS.Mask(ncpu)
	return err
}

// steps is ADD in order. Each step is idempotent.
func (a *attachment) steps() []steps.Step {
	// IPAM (an exec of its own, a few ms) runs while the links are made.
	return []steps.Step{
		{Name: "bridge", Do: a.ensureBridge},
		steps.Together("setup",
			steps.Sequence("link",
				steps.Step{Name: "veth", Do: a.addVeth},
				steps.Step{Name: "macspoofchk", Do: a.ensureSpoofCheck},
				steps.Step{Name: "rps", Do: a.setRPS},
				steps.Step{Name: "sysctls", Do: a.writeSysctls}),
			steps.Step{Name: "ipam", Do: a.allocate}),
		{Name: "addresses", Do: a.configure},
		{Name: "gateway", Do: a.ensureGateway},
		{Name: "forwarding", Do: a.ensureForwarding},
		{Name: "netfilter", Do: a.ensureRules},
	}
}

func (a *attachment) ensureBridge() (err error) {
	a.bridge, err = a.p.Host.EnsureBridge(BridgeSpec{
		Name: a.c.Bridge, MTU: a.c.MTU, Promisc: a.c.Promisc, VLANFiltering: a.c.vlanFiltering(),
	})
	return a.c.vlanRefusal(err)
}

func (a *attachment) addVeth() (err error) {
	a.host, a.cont, err = a.p.Host.AddVeth(VethSpec{
		Host:      hostVethName(a.c.Network, a.args.ContainerID, a.args.IfName),
		Container: a.args.IfName,
		Netns:     a.ns,
		Bridge:    a.c.Bridge,
		Alias:     vethAlias(a.c.Network, a.args.ContainerID, a.args.IfName),
		MTU:       a.c.MTU,
		MAC:       a.c.MAC,
		Hairpin:   a.c.Hairpin,
		Isolated:  a.c.PortIsolation,
		VLANs:     a.c.portVLANs(),
	})
	return err
}

func (a *attachment) setRPS() error {
	r := a.c.RPS
	if r == nil {
		return nil
	}
	if err := a.p.Host.SetRPS(a.host.Name, rps.Settings{CPUs: r.CPUs, FlowCount: r.FlowCount}); err != nil {
		return err
	}
	if r.SockFlowEntries == 0 {
		return nil
	}
	err := ensureAtLeast(a.p.Sysctl, "net.core.rps_sock_flow_entries", r.SockFlowEntries)
	if errors.Is(err, fs.ErrNotExist) {
		// The RFS table is global and its sysctl exists only in the initial
		// netns; a plugin run elsewhere (a node that is itself a netns)
		// cannot size it. Skipped without a word: a line on stderr would
		// repeat in the runtime's log for every pod (issue 12).
		return nil
	}
	return err
}

func (a *attachment) writeSysctls() error {
	settings, err := a.c.Sysctls.Resolve(a.p.Sysctl, a.args.IfName, a.c.PodSysctls)
	if err != nil || len(settings) == 0 {
		return err
	}
	return a.p.Container.WriteSysctls(a.ns, settings)
}

// allocate runs IPAM ADD; without IPAM the attachment is L2 only.
func (a *attachment) allocate() (err error) {
	a.ipam, err = a.p.ipam(a.c).Add()
	if err != nil || a.ipam == nil {
		return err
	}
	return a.checkAllocated(a.ipam)
}

func (a *attachment) configure() error {
	if a.c.DisableContainerInterface {
		return nil // left down, as asked; Load refused IPAM with it
	}
	res := a.containerResult()
	if res == nil {
		// L2 only: no addresses, but the link is set up, as upstream.
		res = &current.Result{}
	}
	return a.p.Container.Configure(a.ns, a.args.IfName, AddrSpec{Result: res, DisableDAD: !a.c.EnableDAD})
}

func (a *attachment) ensureGateway() error {
	if !a.c.IsGateway || a.ipam == nil {
		return nil
	}
	return a.p.Host.EnsureAddresses(a.c.Bridge, gatewayAddrs(a.ipam), a.c.ForceAddress)
}

func (a *attachment) ensureForwarding() error {
	v4, v6 := families(a.ipam)
	if v4 {
		if err := ensureAtLeast(a.p.Sysctl, "net.ipv4.ip_forward", 1); err != nil {
			return err
		}
	}
	if v6 {
		return ensureAtLeast(a.p.Sysctl, "net.ipv6.conf.all.forwarding", 1)
	}
	return nil
}

func (a *attachment) ensureRules() error {
	for _, rs := range ruleSets(a.c, a.ipam) {
		if err := a.p.Firewall.EnsureRules(rs); err != nil {
			return cnierr.Wrap(cnierr.Netfilter, err)
		}
	}
	return nil
}

// containerResult is the IPAM result with the IPs on the container
// interface (index 2 of the result) and the default routes
// isDefaultGateway asks for.
func (a *attachment) containerResult() *current.Result {
	if a.ipam == nil {
		return nil
	}
	res := *a.ipam
	res.Interfaces = a.interfaces()
	res.IPs = nil
	for _, ip := range a.ipam.IPs {
		cp := *ip
		cp.Interface = current.Int(2)
		res.IPs = append(res.IPs, &cp)
	}
	res.Routes = append([]*types.Route(nil), a.ipam.Routes...)
	if a.c.IsDefaultGateway {
		for _, gw := range gatewayAddrs(a.ipam) {
			dst := net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
			if gw.Addr().Is6() {
				dst = net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
			}
			if !hasDefaultRoute(res.Routes, gw.Addr().Is6()) {
				res.Routes = append(res.Routes, &types.Route{Dst: dst, GW: net.IP(gw.Addr().AsSlice())})
			}
		}
	}
	return &res
}

func (a *attachment) result() *current.Result {
	res := &current.Result{CNIVersion: current.ImplementedSpecVersion, Interfaces: a.interfaces()}
	if cr := a.containerResult(); cr != nil {
		res.IPs, res.Routes, res.DNS = cr.IPs, cr.Routes, cr.DNS
	}
	if !netconf.IsEmptyDNS(a.c.DNS) {
		res.DNS = a.c.DNS
	}
	return res
}

// interfaces is the result's interface list: the container interface is
// index 2, which the IPs refer to.
func (a *attachment) interfaces() []*current.Interface {
	return []*current.Interface{
		{Name: a.bridge.Name, Mac: a.bridge.MAC.String()},
		{Name: a.host.Name, Mac: a.host.MAC.String()},
		{Name: a.cont.Name, Mac: a.cont.MAC.String(), Sandbox: a.args.Netns},
	}
}

func hasDefaultRoute(routes []*types.Route, v6 bool) bool {
	for _, r := range routes {
		ones, _ := r.Dst.Mask.Size()
		if ones == 0 && (r.Dst.IP.To4() == nil) == v6 {
			return true
		}
	}
	return false
}

// gatewayAddrs is the bridge address for each IPAM subnet: the gateway
// IPAM named, or the subnet's first address.
func gatewayAddrs(res *current.Result) []netip.Prefix {
	var out []netip.Prefix
	for _, ip := range res.IPs {
		pfx, ok := nlx.Prefix(ip.Address)
		if !ok {
			continue
		}
		gw, ok := netip.AddrFromSlice(ip.Gateway)
		if !ok {
			gw = pfx.Masked().Addr().Next()
		}
		out = append(out, netip.PrefixFrom(gw.Unmap(), pfx.Bits()))
	}
	return out
}

func families(res *current.Result) (v4, v6 bool) {
	if res == nil {
		return false, false
	}
	for _, ip := range res.IPs {
		if ip.Address.IP.To4() != nil {
			v4 = true
		} else {
			v6 = true
		}
	}
	return v4, v6
}

// ruleSets is the network's rules for each family the attachment uses.
func ruleSets(c *Config, res *current.Result) []RuleSet {
	var out []RuleSet
	for _, v6 := range []bool{false, true} {
		rs := RuleSet{Network: c.Network, IPv6: v6, Bridge: c.Bridge, Backend: c.IPMasqBackend, Masquerade: c.IPMasq}
		if res != nil {
			for _, ip := range res.IPs {
				if p, ok := nlx.Prefix(ip.Address); ok && p.Addr().Is6() == v6 {
					rs.Subnets = append(rs.Subnets, p.Masked())
				}
			}
		}
		for _, p := range c.NoMasquerade {
			if p.Addr().Is6() == v6 {
				rs.NoMasq = append(rs.NoMasq, p)
			}
		}
		rs.Subnets = slices.Compact(slices.SortedFunc(slices.Values(rs.Subnets), comparePrefix))
		if len(rs.Subnets) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// ensureAtLeast raises a numeric sysctl to min and never lowers it, so a
// node tuned higher by its operator keeps its value.
func ensureAtLeast(fs sysctl.FS, name string, min int) error {
	k, err := sysctl.ParseKey(name, "")
	if err != nil {
		return err
	}
	cur, err := fs.Read(k)
	if err != nil {
		return err
	}
	var n int
	if _, err := fmt.Sscan(cur, &n); err == nil && n >= min {
		return nil
	}
	return fs.Write(k, fmt.Sprint(min))
}

// comparePrefix orders prefixes, so that duplicates (one subnet named by
// several IPs of a result) are adjacent and compacted to one rule.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
