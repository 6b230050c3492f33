// Package nlx holds the small netlink helpers both plugins use: dumps
// retried when the kernel interrupts them, idempotent deletes, reading an
// interface's L3 state (compared by pkg/ifstate), configuring an
// interface from a CNI result, and netip conversions. It speaks netlink
// only: sysctls are pkg/sysctl's, under a root the caller holds.
package nlx

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/netns"
)

// RetryDump retries a netlink dump the kernel interrupted because the
// table changed under it (NLM_F_DUMP_INTR); concurrent ADDs make that common.
func RetryDump[T any](dump func() ([]T, error)) (out []T, err error) {
	for range 5 {
		if out, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

// DeleteLink deletes a link by name in the current netns; an absent link
// is success. Equivalent to: ip link del $name
func DeleteLink(name string) error {
	l, err := FindLink(name)
	if l == nil || err != nil {
		return err
	}
	return DelLink(l)
}

// FindLink is the link called name in the current netns, or nil when
// there is none.
func FindLink(name string) (netlink.Link, error) {
	l, err := netlink.LinkByName(name)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", name, err)
	}
	return l, nil
}

// DelLink deletes l; a link already gone is success.
func DelLink(l netlink.Link) error {
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting %s: %w", l.Attrs().Name, err)
	}
	return nil
}

// IsNotFound reports whether err says a link does not exist.
func IsNotFound(err error) bool {
	return errors.As(err, new(netlink.LinkNotFoundError)) || errors.Is(err, unix.ENODEV)
}

// Prefix converts a net.IPNet to a netip.Prefix, keeping the host bits.
func Prefix(n net.IPNet) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr, ones), true
}

// IPNet converts a netip.Prefix to a net.IPNet.
func IPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// HasLink reports whether ifname exists in target.
func HasLink(target *netns.NS, ifname string) (bool, error) {
	found := false
	err := target.Do(func() error {
		l, err := FindLink(ifname)
		found = l != nil
		return err
	})
	return found, err
}
