package podroutes

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/nlx"
)

// Kernel is the Table of a network namespace, through a netlink handle
// (netlink.NewHandleAt for another netns, netlink.NewHandle for the
// caller's).
type Kernel struct {
	H *netlink.Handle
}

var _ Table = Kernel{}

// Addrs lists every address of every link.
// Equivalent to: ip -o addr show
func (k Kernel) Addrs() ([]HostAddr, error) {
	names, err := k.linkNames()
	if err != nil {
		return nil, err
	}
	addrs, err := nlx.RetryDump(func() ([]netlink.Addr, error) { return k.H.AddrList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("listing addresses: %w", err)
	}
	out := make([]HostAddr, 0, len(addrs))
	for _, a := range addrs {
		if p, ok := nlx.Prefix(*a.IPNet); ok {
			out = append(out, HostAddr{Prefix: p, Dev: names[a.LinkIndex]})
		}
	}
	return out, nil
}

// Routes lists the unicast routes of the main table, both families.
// Equivalent to: ip route show table main; ip -6 route show table main
func (k Kernel) Routes() ([]Route, error) {
	names, err := k.linkNames()
	if err != nil {
		return nil, err
	}
	filter := &netlink.Route{Table: unix.RT_TABLE_MAIN}
	rs, err := nlx.RetryDump(func() ([]netlink.Route, error) {
		return k.H.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	out := make([]Route, 0, len(rs))
	for _, r := range rs {
		if r.Type != unix.RTN_UNICAST || r.Dst == nil {
			continue // default routes have no Dst and are never ours
		}
		dst, ok := nlx.Prefix(*r.Dst)
		if !ok {
			continue
		}
		rt := Route{Dst: dst.Masked(), Dev: names[r.LinkIndex], Proto: int(r.Protocol)}
		if gw, ok := netip.AddrFromSlice(r.Gw); ok {
			rt.Via = gw.Unmap()
		}
		out = append(out, rt)
	}
	return out, nil
}

// Replace installs r in the main table.
// Equivalent to: ip route replace $dst via $via dev $dev proto $proto
func (k Kernel) Replace(r Route) error {
	nr, err := k.netlinkRoute(r)
	if err != nil {
		return err
	}
	return k.H.RouteReplace(nr)
}

// Delete removes r from the main table if it carries r.Proto (the kernel
// matches the protocol on delete); an absent route is success.
// Equivalent to: ip route del $dst via $via proto $proto
func (k Kernel) Delete(r Route) error {
	nr := &netlink.Route{
		Dst:      nlx.IPNet(r.Dst),
		Protocol: netlink.RouteProtocol(r.Proto),
		Table:    unix.RT_TABLE_MAIN,
	}
	if r.Via.IsValid() {
		nr.Gw = r.Via.AsSlice()
	}
	err := k.H.RouteDel(nr)
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}

func (k Kernel) netlinkRoute(r Route) (*netlink.Route, error) {
	l, err := k.H.LinkByName(r.Dev)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", r.Dev, err)
	}
	return &netlink.Route{
		Dst:       nlx.IPNet(r.Dst),
		Gw:        r.Via.AsSlice(),
		LinkIndex: l.Attrs().Index,
		Protocol:  netlink.RouteProtocol(r.Proto),
		Table:     unix.RT_TABLE_MAIN,
	}, nil
}

func (k Kernel) linkNames() (map[int]string, error) {
	links, err := nlx.RetryDump(k.H.LinkList)
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	return names, nil
}
