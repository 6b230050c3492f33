package main

import (
	"errors"
	"fmt"
	"net"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/nlx"
)

// kernelMasters is Masters on netlink.
type kernelMasters struct{}

var _ Masters = kernelMasters{}

func (kernelMasters) Lookup(netns, name string) (Master, error) {
	var m Master
	find := func() error {
		l, err := masterLink(name)
		if err != nil {
			return err
		}
		a := l.Attrs()
		m = Master{Name: a.Name, Index: a.Index, MTU: a.MTU, Up: a.Flags&net.FlagUp != 0}
		return nil
	}
	if netns == "" {
		return m, find()
	}
	return m, nlx.InNetns(netns, find)
}

// masterLink is the link called name, or the one the first default route
// leaves through (the first hop's, for a multipath route).
func masterLink(name string) (netlink.Link, error) {
	if name != "" {
		l, err := netlink.LinkByName(name)
		if err != nil {
			return nil, fmt.Errorf("looking up link %s: %w", name, err)
		}
		return l, nil
	}
	routes, err := nlx.RetryDump(func() ([]netlink.Route, error) { return netlink.RouteList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst != nil && r.Dst.IP != nil && !isZeroPrefix(*r.Dst) {
			continue
		}
		idx := r.LinkIndex
		if idx == 0 && len(r.MultiPath) > 0 {
			idx = r.MultiPath[0].LinkIndex
		}
		if idx == 0 {
			continue
		}
		l, err := netlink.LinkByIndex(idx)
		if err != nil {
			return nil, fmt.Errorf("looking up link %d of the default route: %w", idx, err)
		}
		return l, nil
	}
	return nil, errors.New("there is no default route")
}

func isZeroPrefix(n net.IPNet) bool {
	ones, _ := n.Mask.Size()
	return ones == 0
}

// kernelContainer is ContainerNet on netlink and procfs, entering the
// container netns on a locked thread for each call.
type kernelContainer struct{}

var _ ContainerNet = kernelContainer{}

func (kernelContainer) HasLink(netns, ifname string) (bool, error) { return nlx.HasLink(netns, ifname) }

func (kernelContainer) AddIPVlan(spec IPVlanSpec) error {
	target, err := ns.GetNS(spec.Netns)
	if err != nil {
		return fmt.Errorf("opening netns %s: %w", spec.Netns, err)
	}
	defer target.Close()
	// A link left by a crashed ADD of this attachment carries this name.
	if err := target.Do(func(ns.NetNS) error { return deleteIPVlan(spec.Name, "") }); err != nil {
		return err
	}
	if err := createIPVlan(target, spec); err != nil {
		return fmt.Errorf("creating ipvlan %s on %s: %w", spec.Name, spec.Master.Name, err)
	}
	return target.Do(func(ns.NetNS) error {
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
func createIPVlan(target ns.NetNS, spec IPVlanSpec) error {
	link := &netlink.IPVlan{
		LinkAttrs: netlink.LinkAttrs{
			Name: spec.Name, MTU: spec.MTU, ParentIndex: spec.Master.Index, TxQLen: -1,
		},
		Mode: netlinkMode(spec.Mode),
		Flag: netlinkFlag(spec.Flag),
	}
	if spec.MasterInContainer {
		return target.Do(func(ns.NetNS) error { return netlink.LinkAdd(link) })
	}
	link.Namespace = netlink.NsFd(int(target.Fd()))
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

func (kernelContainer) Rename(netns, from, to string) (Link, error) {
	var out Link
	err := nlx.InNetns(netns, func() error {
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

func (kernelContainer) DeleteIPVlan(netns, name, alias string) error {
	err := nlx.InNetns(netns, func() error { return deleteIPVlan(name, alias) })
	if errors.As(err, new(ns.NSPathNotExistErr)) || errors.As(err, new(ns.NSPathNotNSErr)) {
		return nil // the netns is gone, and the link with it
	}
	return err
}

// deleteIPVlan deletes the ipvlan called name in the current netns when
// its alias is alias (or alias is ""); anything else of that name stays.
func deleteIPVlan(name, alias string) error {
	l, err := netlink.LinkByName(name)
	if nlx.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up %s: %w", name, err)
	}
	if l.Type() != "ipvlan" || (alias != "" && l.Attrs().Alias != alias) {
		return nil
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting %s: %w", name, err)
	}
	return nil
}
