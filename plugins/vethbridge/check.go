package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/containernetworking/cni/pkg/skel"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/ifstate"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Check is CNI CHECK: it verifies everything ADD set, in ADD's order, and
// the error names the first drift found.
func (p *Plugin) Check(args *skel.CmdArgs) error {
	return netconf.InNetns(args, p.load, p.OpenNetns, func(c *Config, target *netns.NS) error {
		return p.check(c, args, target)
	})
}

// check verifies a validated config's attachment against the kernel.
func (p *Plugin) check(c *Config, args *skel.CmdArgs, target *netns.NS) error {
	if err := netconf.RequirePrevResult(c.PrevResult); err != nil {
		return err
	}
	for _, check := range []func(*Config, *skel.CmdArgs) error{
		p.checkHostVeth, p.checkPortVLANs,
		func(c *Config, args *skel.CmdArgs) error { return p.checkContainer(c, args, target) },
		p.checkSpoofCheck, p.checkForwarding, p.checkRules, p.checkIPAM,
	} {
		if err := check(c, args); err != nil {
			return cnierr.Outcome(err)
		}
	}
	return nil
}

func (p *Plugin) checkHostVeth(c *Config, args *skel.CmdArgs) error {
	name := hostVethName(c.Network, args.ContainerID, args.IfName)
	v, err := p.Host.InspectVeth(name)
	if err != nil {
		return fmt.Errorf("host veth %s: %w", name, err)
	}
	if v.Master != c.Bridge {
		return fmt.Errorf("host veth %s: on bridge %q, want %q", name, v.Master, c.Bridge)
	}
	if c.RPS == nil {
		return nil
	}
	mask, known := p.wantRPSCPUs(c.RPS)
	// The kernel rounds rps_flow_cnt up to a power of two.
	want := rps.Settings{CPUs: mask, FlowCount: c.RPS.FlowCount}.Effective()
	for _, q := range sortedQueues(v.Queues) {
		got := v.Queues[q]
		if known && !got.CPUs.Equal(want.CPUs) {
			return fmt.Errorf("host veth %s %s: rps_cpus is %s, want %s", name, q, got.CPUs, want.CPUs)
		}
		if want.FlowCount > 0 && got.FlowCount != want.FlowCount {
			return fmt.Errorf("host veth %s %s: rps_flow_cnt is %d, want %d", name, q, got.FlowCount, want.FlowCount)
		}
	}
	return nil
}

// checkPortVLANs compares the host veth's VLAN table with the one ADD
// programmed. Without vlan or vlanTrunk ADD programs none, and a kernel
// without bridge VLAN filtering has none to read, so nothing is read.
func (p *Plugin) checkPortVLANs(c *Config, args *skel.CmdArgs) error {
	if !c.vlanFiltering() {
		return nil
	}
	name := hostVethName(c.Network, args.ContainerID, args.IfName)
	t, err := p.Host.PortVLANs(name)
	if err != nil {
		return fmt.Errorf("host veth %s VLANs: %w", name, c.vlanRefusal(err))
	}
	if err := diffPortVLANs(c.portVLANs().table(t.DefaultPVID), byVID(t.VLANs)); err != nil {
		return fmt.Errorf("host veth %s: %w", name, err)
	}
	return nil
}

// wantRPSCPUs is the mask CHECK expects and whether it is known. Without
// the node's CPU count a list or hex mask still resolves exactly (bounded
// by the most CPUs a node can have); only "all" cannot, and then rps_cpus
// is not compared rather than CHECK failing over a file ADD never wrote.
func (p *Plugin) wantRPSCPUs(r *RPSConfig) (rps.Mask, bool) {
	ncpu, err := p.PossibleCPUs()
	if err != nil {
		if strings.TrimSpace(r.Spec) == "all" {
			return rps.Mask{}, false
		}
		ncpu = rps.MaxCPUs
	}
	m, err := r.Mask(ncpu)
	return m, err == nil
}

func sortedQueues(m map[string]rps.Settings) []string {
	qs := make([]string, 0, len(m))
	for q := range m {
		qs = append(qs, q)
	}
	slices.Sort(qs)
	return qs
}

func (p *Plugin) checkContainer(c *Config, args *skel.CmdArgs, target *netns.NS) error {
	settings, err := c.Sysctls.Resolve(p.Sysctl, args.IfName, c.PodSysctls)
	if err != nil {
		return err
	}
	st, err := p.Container.Inspect(target, args.IfName, ifstate.Keys(settings))
	if err != nil {
		return fmt.Errorf("container interface %s: %w", args.IfName, err)
	}
	if err := checkInterface(c.PrevResult, args, st); err != nil {
		return err
	}
	if st.Up == c.DisableContainerInterface {
		return fmt.Errorf("container interface %s is %s, want %s (disableContainerInterface %v)",
			args.IfName, upDown(st.Up), upDown(!st.Up), c.DisableContainerInterface)
	}
	return ifstate.CheckSysctls(settings, st.Sysctls)
}

// checkInterface compares the container interface with prevResult.
func checkInterface(prev *current.Result, args *skel.CmdArgs, st ContainerState) error {
	idx := -1
	for i, intf := range prev.Interfaces {
		if intf.Name == args.IfName && intf.Sandbox != "" {
			idx = i
			if intf.Mac != "" && intf.Mac != st.MAC.String() {
				return fmt.Errorf("container interface %s: MAC is %s, want %s", args.IfName, st.MAC, intf.Mac)
			}
		}
	}
	if idx < 0 {
		return fmt.Errorf("prevResult has no interface %s in a sandbox", args.IfName)
	}
	return ifstate.CheckL3(prev, idx, args.IfName, st.L3)
}

func (p *Plugin) checkForwarding(c *Config, _ *skel.CmdArgs) error {
	v4, v6 := families(c.PrevResult)
	for _, f := range []struct {
		on   bool
		name string
	}{{v4, "net.ipv4.ip_forward"}, {v6, "net.ipv6.conf.all.forwarding"}} {
		if !f.on {
			continue
		}
		k, _ := sysctl.ParseKey(f.name, "")
		if v, err := p.Sysctl.Read(k); err != nil || v != "1" {
			return fmt.Errorf("host %s is %q (%v), want 1", f.name, v, err)
		}
	}
	return nil
}

func (p *Plugin) checkRules(c *Config, _ *skel.CmdArgs) error {
	for _, rs := range ruleSets(c, c.PrevResult) {
		if err := p.Firewall.CheckRules(rs); err != nil {
			return err
		}
	}
	return nil
}

func (p *Plugin) checkIPAM(c *Config, _ *skel.CmdArgs) error { return p.ipam(c).Check() }

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}
