package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/alias"
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

func (kernelContainer) AddIPVlan(spec IPVlanSpec) error {
	target := spec.Netns
	// A link left by a crashed ADD of this attachment carries this name;
	// one carrying another attachment's alias is refused, never replaced.
	if err := target.Do(func() error { return replaceIPVlan(spec.Name, spec.Alias) }); err != nil {
		return err
	}
	if err := createIPVlan(target, spec); err != nil {
		return fmt.Errorf("creating ipvlan %s on %s: %w", spec.Name, spec.Master.Name, err)
	}
	return target.Do(func() error {
		l, err := netlink.LinkByName(spec.Name)
		if err != nil {
			return fmt.Errorf("looking up new ipvlan %s: %w", spec.Name, err)
		}
		if err := netlink.LinkSetAlias(l, spec.Alias); err != nil {
			return fmt.Errorf("setting alias of ipvlan %s: %w", spec.Name, err)
		}
		return nil
	})
}

// createIPVlan creates the link in target. The parent index is resolved in
// the netns the request is sent from: the container's for a master inside
// it, else the plugin's own, with the link born in the container's netns
// and never visible on the host.
func createIPVlan(target *netns.NS, spec IPVlanSpec) error {
	link := &netlink.IPVlan{
		LinkAttrs: netlink.LinkAttrs{
			Name: spec.Name, MTU: spec.MTU, ParentIndex: spec.Master.Index, TxQLen: -1,
		},
		Mode: netlinkMode(spec.Mode),
		Flag: netlinkFlag(spec.Flag),
	}
	if spec.MasterInContainer {
		return target.Do(func() error { return netlink.LinkAdd(link) })
	}
	link.Namespace = netlink.NsFd(target.Fd())
	return netlink.LinkAdd(link)
}

func netlinkMode(m Mode) netlink.IPVlanMode {
	switch m {
	case ModeL3:
		return netlink.IPVLAN_MODE_L3
	case ModeL3S:
		return netlink.IPVLAN_MODE_L3S
	}
	return netlink.IPVLAN_MODE_L2
}

func netlinkFlag(f Flag) netlink.IPVlanFlag {
	switch f {
	case FlagPrivate:
		return netlink.IPVLAN_FLAG_PRIVATE
	case FlagVEPA:
		return netlink.IPVLAN_FLAG_VEPA
	}
	return netlink.IPVLAN_FLAG_BRIDGE
}

func (kernelContainer) Rename(target *netns.NS, from, to string) (Link, error) {
	var out Link
	err := target.Do(func() error {
		l, err := netlink.LinkByName(from)
		if err != nil {
			return fmt.Errorf("looking up %s: %w", from, err)
		}
		if err := netlink.LinkSetName(l, to); err != nil {
			return fmt.Errorf("renaming %s to %s: %w", from, to, err)
		}
		if l, err = netlink.LinkByName(to); err != nil {
			return fmt.Errorf("looking up %s: %w", to, err)
		}
		out = Link{Name: to, MAC: l.Attrs().HardwareAddr, Index: l.Attrs().Index}
		return nil
	})
	return out, err
}

func (kernelContainer) DeleteIPVlan(target *netns.NS, name string, owner LinkOwner) error {
	return target.Do(func() error { return deleteIPVlan(name, owner) })
}

func (kernelContainer) FindIPVlan(target *netns.NS, name, want string) (Slave, bool, error) {
	var s Slave
	var found bool
	err := target.Do(func() error {
		l, err := lookupIPVlan(name)
		if l == nil || err != nil || l.Attrs().Alias != want {
			return err
		}
		iv, ok := l.(*netlink.IPVlan)
		if !ok {
			return nil
		}
		s, found = Slave{Name: iv.Name, Alias: iv.Alias, Mode: modeOf(iv.Mode), Flag: flagOf(iv.Flag)}, true
		return nil
	})
	return s, found, err
}

// replaceIPVlan deletes a leftover ipvlan called name in the current netns
// before ADD makes its own: one with alias or none. Another attachment's
// is an error naming both (code 104), and stays.
func replaceIPVlan(name, want string) error {
	l, err := lookupIPVlan(name)
	if l == nil || err != nil {
		return err
	}
	if err := alias.Claim(name, l.Attrs().Alias, want); err != nil {
		return err
	}
	return nlx.DelLink(l)
}

// deleteIPVlan deletes the ipvlan called name in the current netns when
// owner may; anything else of that name stays.
func deleteIPVlan(name string, owner LinkOwner) error {
	l, err := lookupIPVlan(name)
	if l == nil || err != nil {
		return err
	}
	have := l.Attrs().Alias
	if have != owner.Alias && !(owner.Unaliased && have == "") {
		return nil
	}
	return nlx.DelLink(l)
}

// lookupIPVlan is the ipvlan called name in the current netns, or nil.
func lookupIPVlan(name string) (netlink.Link, error) {
	l, err := nlx.FindLink(name)
	if l == nil || err != nil || l.Type() != "ipvlan" {
		return nil, err
	}
	return l, nil
}

func (c kernelContainer) Configure(target *netns.NS, ifname string, res *current.Result) error {
	return target.Do(func() error {
		if err := announceAddresses(c.Proc, ifname); err != nil {
			return err
		}
		if err := nlx.ConfigureInterface(ifname, res); err != nil {
			return fmt.Errorf("configuring %s: %w", ifname, err)
		}
		return nil
	})
}

// announceAddresses makes the kernel send a gratuitous ARP / unsolicited
// neighbour advertisement when ifname comes up, as upstream ipvlan does:
// the slave shares its master's MAC, and a reused pod IP must not keep
// pointing at another node's MAC in the neighbours' caches.
func announceAddresses(proc sysctl.FS, ifname string) error {
	for _, n := range []struct {
		key string
		// v6 keys are absent when IPv6 is disabled in the netns, and then
		// there is nothing to announce.
		v6 bool
	}{{"net/ipv4/conf/IFNAME/arp_notify", false}, {"net/ipv6/conf/IFNAME/ndisc_notify", true}} {
		k, err := sysctl.ParseKey(n.key, ifname)
		if err != nil {
			return err
		}
		err = proc.Write(k, "1")
		if err != nil && !(n.v6 && errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	return nil
}

func (c kernelContainer) Inspect(target *netns.NS, ifname string, keys []sysctl.Key) (ContainerState, error) {
	l, err := c.ReadLink(target, ifname, keys)
	if err != nil {
		return ContainerState{}, err
	}
	st := linkState(l.Link)
	st.L3, st.Sysctls = l.L3, l.Sysctls
	return st, nil
}

func linkState(l netlink.Link) ContainerState {
	a := l.Attrs()
	st := ContainerState{
		Kind: l.Type(), ParentIndex: a.ParentIndex, Alias: a.Alias,
		MAC: a.HardwareAddr, Up: a.Flags&net.FlagUp != 0,
	}
	if iv, ok := l.(*netlink.IPVlan); ok {
		st.Mode, st.Flag = modeOf(iv.Mode), flagOf(iv.Flag)
	}
	return st
}

// modes and flags name the kernel's ipvlan modes and flags as the config
// does.
var (
	modes = map[netlink.IPVlanMode]Mode{
		netlink.IPVLAN_MODE_L2: ModeL2, netlink.IPVLAN_MODE_L3: ModeL3, netlink.IPVLAN_MODE_L3S: ModeL3S,
	}
	flags = map[netlink.IPVlanFlag]Flag{
		netlink.IPVLAN_FLAG_BRIDGE: FlagBridge, netlink.IPVLAN_FLAG_PRIVATE: FlagPrivate, netlink.IPVLAN_FLAG_VEPA: FlagVEPA,
	}
)

// modeOf names m as the config does, or "mode(N)" for a mode it lacks.
func modeOf(m netlink.IPVlanMode) Mode {
	if name, ok := modes[m]; ok {
		return name
	}
	return Mode(fmt.Sprintf("mode(%d)", m))
}

// flagOf names f as the config does, or "flag(N)" for a flag it lacks.
func flagOf(f netlink.IPVlanFlag) Flag {
	if name, ok := flags[f]; ok {
		return name
	}
	return Flag(fmt.Sprintf("flag(%d)", f))
}
