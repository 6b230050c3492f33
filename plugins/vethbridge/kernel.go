package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/alias"
	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/rps"
)

// kernelHost is HostNet on netlink in the plugin's own namespace.
type kernelHost struct{}

var _ HostNet = kernelHost{}

func (kernelHost) EnsureBridge(spec BridgeSpec) (Link, error) {
	br, err := ensureBridgeLink(spec)
	if err != nil {
		return Link{}, fmt.Errorf("bridge %s: %w", spec.Name, vlanFilteringError(err))
	}
	if spec.Promisc && br.Attrs().Promisc == 0 {
		if err := netlink.SetPromiscOn(br); err != nil {
			return Link{}, fmt.Errorf("setting bridge %s promiscuous: %w", spec.Name, err)
		}
	}
	if spec.VLANFiltering && !hasVLANFiltering(br) {
		return Link{}, fmt.Errorf("bridge %s: %w", spec.Name, errNoVLANFiltering)
	}
	if spec.VLANFiltering && (br.VlanFiltering == nil || !*br.VlanFiltering) {
		if err := netlink.BridgeSetVlanFiltering(br, true); err != nil {
			return Link{}, fmt.Errorf("enabling VLAN filtering on bridge %s: %w", spec.Name, vlanFilteringError(err))
		}
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(br); err != nil {
			return Link{}, fmt.Errorf("setting bridge %s up: %w", spec.Name, err)
		}
	}
	return linkOf(br), nil
}

// ensureBridgeLink creates the bridge unless it exists; a concurrent ADD
// may create it first (EEXIST), and an existing non-bridge is an error.
func ensureBridgeLink(spec BridgeSpec) (*netlink.Bridge, error) {
	l, err := netlink.LinkByName(spec.Name)
	if nlx.IsNotFound(err) {
		add := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: spec.Name, MTU: spec.MTU, TxQLen: -1}}
		if spec.VLANFiltering {
			// Only asked for when needed: kernels built without
			// CONFIG_BRIDGE_VLAN_FILTERING refuse the attribute outright.
			vf := true
			add.VlanFiltering = &vf
		}
		if err := netlink.LinkAdd(add); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("creating: %w", err)
		}
		l, err = netlink.LinkByName(spec.Name)
	}
	if err != nil {
		return nil, err
	}
	br, ok := l.(*netlink.Bridge)
	if !ok {
		// The config's fault, not the kernel's: code 7 naming the key.
		return nil, cnierr.InvalidConfig("bridge", spec.Name, fmt.Sprintf("a %s link of that name exists; it is not a bridge", l.Type()))
	}
	return br, nil
}

func (kernelHost) AddVeth(spec VethSpec) (Link, Link, error) {
	br, err := netlink.LinkByName(spec.Bridge)
	if err != nil {
		return Link{}, Link{}, fmt.Errorf("bridge %s: %w", spec.Bridge, err)
	}
	// A host end left by a crashed ADD of this same attachment is replaced;
	// another attachment's, whose name collides with ours, is not.
	if err := deleteOwnedLink(spec.Host, spec.Alias); err != nil {
		return Link{}, Link{}, err
	}
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: spec.Host, MTU: spec.MTU, MasterIndex: br.Attrs().Index},
		PeerName:         spec.Container,
		PeerNamespace:    netlink.NsFd(spec.Netns.Fd()),
		PeerHardwareAddr: spec.MAC,
	}
	if spec.MTU != 0 {
		veth.PeerMTU = uint32(spec.MTU)
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return Link{}, Link{}, fmt.Errorf("creating veth %s/%s: %w", spec.Host, spec.Container, err)
	}
	host, err := configureHostEnd(spec)
	if err != nil {
		return Link{}, Link{}, err
	}
	cont, err := linkIn(spec.Netns, spec.Container)
	return host, cont, err
}

// configureHostEnd records the attachment in the alias (for GC), sets the
// bridge port options, and sets the host end up.
func configureHostEnd(spec VethSpec) (Link, error) {
	l, err := netlink.LinkByName(spec.Host)
	if err != nil {
		return Link{}, fmt.Errorf("veth %s: %w", spec.Host, err)
	}
	for _, op := range []struct {
		what string
		do   func() error
	}{
		{"alias", func() error { return netlink.LinkSetAlias(l, spec.Alias) }},
		{"hairpin", func() error { return onlyIf(spec.Hairpin, func() error { return netlink.LinkSetHairpin(l, true) }) }},
		{"isolated", func() error { return onlyIf(spec.Isolated, func() error { return netlink.LinkSetIsolated(l, true) }) }},
		{"vlan", func() error { return setPortVLANs(l, spec.VLANs) }},
		{"up", func() error { return netlink.LinkSetUp(l) }},
	} {
		if err := op.do(); err != nil {
			return Link{}, fmt.Errorf("veth %s %s: %w", spec.Host, op.what, err)
		}
	}
	return linkOf(l), nil
}

func onlyIf(cond bool, f func() error) error {
	if !cond {
		return nil
	}
	return f()
}

func linkIn(target *netns.NS, name string) (Link, error) {
	var out Link
	err := target.Do(func() error {
		l, err := netlink.LinkByName(name)
		if err != nil {
			return fmt.Errorf("%s in container: %w", name, err)
		}
		out = linkOf(l)
		return nil
	})
	return out, err
}

func linkOf(l netlink.Link) Link {
	return Link{Name: l.Attrs().Name, MAC: l.Attrs().HardwareAddr, Index: l.Attrs().Index}
}

func (kernelHost) DeleteLink(name, own string) error { return deleteOwnedLink(name, own) }

// deleteOwnedLink deletes the link called name unless it carries an alias
// other than want (alias.Claim). Equivalent to: ip link del $name
func deleteOwnedLink(name, want string) error {
	l, err := nlx.FindLink(name)
	if l == nil || err != nil {
		return err
	}
	if err := alias.Claim(name, l.Attrs().Alias, want); err != nil {
		return err
	}
	return nlx.DelLink(l)
}

func (kernelHost) SetRPS(dev string, s rps.Settings) error {
	return rps.WithNetnsSysfs("", func(root string) error { return rps.Apply(root, dev, s) })
}

func (kernelHost) EnsureAddresses(bridge string, addrs []netip.Prefix, force bool) error {
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", bridge, err)
	}
	for _, want := range addrs {
		if err := ensureAddr(br, want, force); err != nil {
			return fmt.Errorf("bridge %s address %s: %w", bridge, want, err)
		}
	}
	return nil
}

func ensureAddr(br netlink.Link, want netip.Prefix, force bool) error {
	family := netlink.FAMILY_V4
	if want.Addr().Is6() {
		family = netlink.FAMILY_V6
	}
	have, err := nlx.RetryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(br, family) })
	if err != nil {
		return err
	}
	for _, a := range have {
		got, ok := nlx.Prefix(*a.IPNet)
		if !ok || !got.Overlaps(want) {
			continue
		}
		if got == want {
			return nil
		}
		if !force {
			return fmt.Errorf("bridge already has %s in that subnet (set forceAddress to replace it)", got)
		}
		if err := netlink.AddrDel(br, &a); err != nil {
			return fmt.Errorf("removing %s: %w", got, err)
		}
	}
	addr := &netlink.Addr{IPNet: nlx.IPNet(want)}
	if err := netlink.AddrAdd(br, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	return nil
}

func (kernelHost) Attachments() ([]HostVeth, error) {
	links, err := nlx.RetryDump(netlink.LinkList)
	if err != nil {
		return nil, err
	}
	var out []HostVeth
	for _, l := range links {
		if l.Type() == "veth" && strings.HasPrefix(l.Attrs().Alias, aliasPrefix) {
			out = append(out, HostVeth{Name: l.Attrs().Name, Alias: l.Attrs().Alias})
		}
	}
	return out, nil
}

func (kernelHost) InspectVeth(name string) (HostVeth, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return HostVeth{}, err
	}
	v := HostVeth{Name: name, Alias: l.Attrs().Alias}
	if idx := l.Attrs().MasterIndex; idx != 0 {
		if m, err := netlink.LinkByIndex(idx); err == nil {
			v.Master = m.Attrs().Name
		}
	}
	err = rps.WithNetnsSysfs("", func(root string) (err error) {
		v.Queues, err = rps.Read(root, name)
		return err
	})
	return v, err
}

func (kernelHost) NodeAddrs(fams netconf.Families) ([]netconf.LinkAddr, error) {
	family := netlink.FAMILY_ALL
	switch {
	case !fams.V4 && !fams.V6:
		return nil, nil
	case !fams.V6:
		family = netlink.FAMILY_V4
	case !fams.V4:
		family = netlink.FAMILY_V6
	}
	addrs, err := nlx.RetryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(nil, family) })
	if errors.Is(err, netlink.ErrDumpInterrupted) {
		// Concurrent ADDs keep changing the table (each new veth gets an
		// IPv6 link-local address); the addresses that matter here, of
		// uplinks and bridges, are stable, so the dump as read serves.
		err = nil
	}
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	var out []netconf.LinkAddr
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || ip.IsLinkLocalUnicast() {
			continue
		}
		name, known := names[a.LinkIndex]
		if !known {
			l, err := netlink.LinkByIndex(a.LinkIndex)
			if nlx.IsNotFound(err) {
				continue // gone since the dump
			}
			if err != nil {
				return nil, err
			}
			name = l.Attrs().Name
			names[a.LinkIndex] = name
		}
		out = append(out, netconf.LinkAddr{Link: name, Addr: ip.Unmap()})
	}
	return out, nil
}

func (kernelHost) LinkKind(name string) (string, error) {
	l, err := nlx.FindLink(name)
	if l == nil || err != nil {
		return "", err
	}
	return l.Type(), nil
}
