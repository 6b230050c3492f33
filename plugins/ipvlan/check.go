package main

import (
	"fmt"
	"slices"

	"github.com/containernetworking/cni/pkg/skel"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/ifstate"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
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
	idx := ourInterface(c.PrevResult, args)
	if idx < 0 {
		return cnierr.InvalidConfig("prevResult", "(object)", fmt.Sprintf("no interface %s in sandbox %s", args.IfName, args.Netns))
	}
	m, err := p.lookupMaster(c, target, checkMasterName(c, idx))
	if err != nil {
		return err
	}
	settings, err := c.Sysctls.Resolve(p.Sysctl, args.IfName, c.PodSysctls)
	if err != nil {
		return cnierr.Wrap(cnierr.Kernel, err)
	}
	st, err := p.Container.Inspect(target, args.IfName, ifstate.Keys(settings))
	if err != nil {
		return cnierr.Wrap(cnierr.Kernel, fmt.Errorf("container interface %s: %w", args.IfName, err))
	}
	want := linkWant{c: c, args: args, master: m, intf: c.PrevResult.Interfaces[idx]}
	for _, drift := range []func() error{
		func() error { return want.check(st) },
		func() error { return ifstate.CheckL3(c.PrevResult, idx, args.IfName, st.L3) },
		func() error { return ifstate.CheckSysctls(settings, st.Sysctls) },
	} {
		if err := drift(); err != nil {
			return cnierr.Wrap(cnierr.Kernel, err)
		}
	}
	return p.ipam(c).Check()
}

// ourInterface is the index of the container interface in prev, or -1.
func ourInterface(prev *current.Result, args *skel.CmdArgs) int {
	return slices.IndexFunc(prev.Interfaces, func(i *current.Interface) bool {
		return i.Name == args.IfName && i.Sandbox == args.Netns
	})
}

// checkMasterName is the master CHECK expects. ADD's result keeps a
// chained plugin's interfaces before ours, so a chained master is the one
// other named interface; an unchained result has none, and then, as in
// ADD, the default route decides ("").
func checkMasterName(c *Config, ours int) string {
	if c.Master != "" {
		return c.Master
	}
	var others []string
	for i, intf := range c.PrevResult.Interfaces {
		if i != ours && intf.Name != "" {
			others = append(others, intf.Name)
		}
	}
	if len(others) == 1 {
		return others[0]
	}
	return ""
}

// linkWant is what the container link should be.
type linkWant struct {
	c      *Config
	args   *skel.CmdArgs
	master Master
	intf   *current.Interface
}

func (w linkWant) check(st ContainerState) error {
	name := w.args.IfName
	alias := linkAlias(w.c.Network, w.args.ContainerID, name)
	switch {
	case st.Kind != "ipvlan":
		return fmt.Errorf("container interface %s is a %q link, want ipvlan", name, st.Kind)
	case st.ParentIndex != w.master.Index:
		return fmt.Errorf("container interface %s: master has index %d, want %d (%s)", name, st.ParentIndex, w.master.Index, w.master.Name)
	case st.Mode != w.c.Mode:
		return fmt.Errorf("container interface %s: ipvlan mode is %s, want %s", name, st.Mode, w.c.Mode)
	case st.Flag != w.c.Flag:
		return fmt.Errorf("container interface %s: ipvlan flag is %s, want %s", name, st.Flag, w.c.Flag)
	case st.Alias != alias:
		return fmt.Errorf("container interface %s: alias is %q, want %q", name, st.Alias, alias)
	case w.intf.Mac != "" && w.intf.Mac != st.MAC.String():
		return fmt.Errorf("container interface %s: MAC is %s, want %s", name, st.MAC, w.intf.Mac)
	case !st.Up:
		return fmt.Errorf("container interface %s is down", name)
	}
	return nil
}
