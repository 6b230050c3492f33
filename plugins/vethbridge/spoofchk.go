package main

import (
	"fmt"
	"net"
	"os"
	"slices"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// SpoofChecker owns macspoofchk's per-port rules (see pkg/spoofchk): frames
// that enter the bridge from a pod's port with a source MAC other than the
// pod's are dropped.
type SpoofChecker interface {
	// EnsurePort makes port's rule allow only mac, replacing any rule the
	// port had. Equivalent to: nft add rule bridge netsteer macspoofchk
	// iifname $port ether saddr != $mac drop
	EnsurePort(network, port string, mac net.HardwareAddr) error
	// DeletePorts removes the network's rules of the ports drop selects;
	// nil when there are none, or when nftables was never usable here.
	DeletePorts(network string, drop func(port string) bool) error
	// CheckPort names the difference between port's rule and mac.
	CheckPort(network, port string, mac net.HardwareAddr) error
	// Usable reports whether rules can be made (nft binary, nf_tables).
	Usable() error
}

// ensureSpoofCheck is ADD's macspoofchk step: the rule goes in before the
// container interface is up, so no spoofed frame passes in between.
func (a *attachment) ensureSpoofCheck() error {
	if !a.c.MacSpoofChk {
		return nil
	}
	if err := a.p.SpoofCheck.EnsurePort(a.c.Network, a.host.Name, a.cont.MAC); err != nil {
		return cnierr.Wrap(cnierr.Netfilter, fmt.Errorf("macspoofchk for %s: %w", a.host.Name, err))
	}
	return nil
}

// deleteSpoofCheck is DEL's macspoofchk step. A config without the key
// made no rule; a rule left when the key was switched off between ADD and
// DEL is a stray that GC removes.
func (p *Plugin) deleteSpoofCheck(c *Config, hosts []string) error {
	if !c.MacSpoofChk {
		return nil
	}
	if err := p.SpoofCheck.DeletePorts(c.Network, func(port string) bool { return slices.Contains(hosts, port) }); err != nil {
		return cnierr.Wrap(cnierr.Netfilter, fmt.Errorf("removing the macspoofchk rule of %s: %w", hosts[0], err))
	}
	return nil
}

// collectSpoofChecks is GC's sweep: the network's rules of every port that
// is not a valid attachment's go, whatever the config says now.
func (p *Plugin) collectSpoofChecks(c *Config) error {
	valid := map[string]bool{}
	for _, a := range c.ValidAttachments {
		for _, name := range hostVethNames(c.Network, a.ContainerID, a.IfName) {
			valid[name] = true
		}
	}
	err := p.SpoofCheck.DeletePorts(c.Network, func(port string) bool { return !valid[port] })
	if err != nil && !c.MacSpoofChk {
		// A network that does not use the key must not fail GC over an
		// nftables it may never have needed; the stray waits for a GC
		// that can list it.
		fmt.Fprintf(os.Stderr, "vethbridge: GC: macspoofchk rules not swept: %v\n", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("removing stray macspoofchk rules: %w", err)
	}
	return nil
}

// checkSpoofCheck is CHECK's: the port's rule allows the MAC of the
// container interface ADD reported.
func (p *Plugin) checkSpoofCheck(c *Config, args *skel.CmdArgs) error {
	if !c.MacSpoofChk {
		return nil
	}
	var mac net.HardwareAddr
	for _, intf := range c.PrevResult.Interfaces {
		if intf.Name == args.IfName && intf.Sandbox != "" {
			mac, _ = net.ParseMAC(intf.Mac)
		}
	}
	if mac == nil {
		return fmt.Errorf("macspoofchk: prevResult has no MAC for %s", args.IfName)
	}
	return p.SpoofCheck.CheckPort(c.Network, hostVethName(c.Network, args.ContainerID, args.IfName), mac)
}

// spoofCheckUsable is refuseEarly's and STATUS's test.
func (p *Plugin) spoofCheckUsable(c *Config) error {
	if !c.MacSpoofChk {
		return nil
	}
	if err := p.SpoofCheck.Usable(); err != nil {
		return fmt.Errorf("macspoofchk needs nftables: %w", err)
	}
	return nil
}
