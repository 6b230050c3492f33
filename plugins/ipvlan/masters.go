package main

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
)

// kernelMasters is Masters on netlink.
type kernelMasters struct{}

var _ Masters = kernelMasters{}

func (kernelMasters) Lookup(target *netns.NS, name string) (Master, error) {
	var m Master
	find := func() error {
		l, err := masterLink(name)
		if err != nil {
			return err
		}
		a := l.Attrs()
		m = Master{Name: a.Name, Index: a.Index, MTU: a.MTU, Up: a.Flags&net.FlagUp != 0,
			Kind: l.Type(), Loopback: a.Flags&net.FlagLoopback != 0}
		m.Slaves, err = slavesOf(a.Index)
		return err
	}
	if target == nil {
		return m, find()
	}
	return m, target.Do(find)
}

// slavesOf lists the ipvlan links on the master with index parent in the
// current netns. Links an earlier ADD moved into a pod's netns are not
// among them: the kernel lists a netns's own links only.
// Equivalent to: ip -d link show type ipvlan
func slavesOf(parent int) ([]Slave, error) {
	links, err := nlx.RetryDump(netlink.LinkList)
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	var out []Slave
	for _, l := range links {
		iv, ok := l.(*netlink.IPVlan)
		if ok && iv.ParentIndex == parent && iv.Index != parent {
			out = append(out, Slave{Name: iv.Name, Alias: iv.Alias, Mode: modeOf(iv.Mode), Flag: flagOf(iv.Flag)})
		}
	}
	return out, nil
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
