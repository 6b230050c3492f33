package nlx

import (
	"errors"
	"fmt"
	"net"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ConfigureInterface sets ifname up and gives it res's addresses (those
// whose Interface is ifname's entry in res, or unset) and res's routes,
// in the current netns. A route without a gateway uses the gateway of an
// address of its family, as the upstream plugins do. Existing addresses
// and routes are kept (EEXIST), so it can run again after a crash.
// Equivalent to: ip link set $if up; ip addr add …; ip route add … via …
func ConfigureInterface(ifname string, res *current.Result) error {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("looking up %s: %w", ifname, err)
	}
	// Up first: the kernel refuses routes via a gateway on a down link.
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("setting %s up: %w", ifname, err)
	}
	gateways, err := addAddresses(link, res)
	if err != nil {
		return err
	}
	for _, r := range res.Routes {
		if err := addRoute(link, r, gateways); err != nil {
			return err
		}
	}
	return nil
}

// sandboxIndex is ifname's index among res's container-side interfaces,
// or -1.
func sandboxIndex(ifname string, res *current.Result) int {
	idx := -1
	for i, intf := range res.Interfaces {
		if intf.Name == ifname && intf.Sandbox != "" {
			idx = i
		}
	}
	return idx
}

// addAddresses adds link's share of res.IPs and returns the first gateway
// of each family, keyed by "is IPv6".
func addAddresses(link netlink.Link, res *current.Result) (map[bool]net.IP, error) {
	idx := sandboxIndex(link.Attrs().Name, res)
	gateways := map[bool]net.IP{}
	for _, ip := range res.IPs {
		if ip.Interface != nil && *ip.Interface != idx {
			continue
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip.Address.IP, Mask: ip.Address.Mask}}
		if err := netlink.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("adding address %s to %s: %w", ip.Address.String(), link.Attrs().Name, err)
		}
		v6 := ip.Address.IP.To4() == nil
		if ip.Gateway != nil && gateways[v6] == nil {
			gateways[v6] = ip.Gateway
		}
	}
	return gateways, nil
}

// addRoute adds r on link, via its family's gateway when r names none.
func addRoute(link netlink.Link, r *types.Route, gateways map[bool]net.IP) error {
	gw := r.GW
	if gw == nil {
		gw = gateways[r.Dst.IP.To4() == nil]
	}
	route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: &net.IPNet{IP: r.Dst.IP, Mask: r.Dst.Mask}, Gw: gw}
	if r.Priority != 0 {
		route.Priority = r.Priority
	}
	if r.MTU != 0 {
		route.MTU = r.MTU
	}
	if r.Table != nil {
		route.Table = *r.Table
	}
	if err := netlink.RouteAdd(route); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding route %s via %s on %s: %w", r.Dst.String(), gw, link.Attrs().Name, err)
	}
	return nil
}
