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
		m = Master{Name: a.Name, Index: a.Index, MTU: a.MTU, Up: a.Flags&net.FlagUp != 0}
		return nil
	}
	if target == nil {
		return m, find()
	}
	return m, target.Do(find)
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
