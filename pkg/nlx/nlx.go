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
func RetryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var err error
	for range 5 {
		var out []T
		out, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

// DeleteLink deletes a link by name in the current netns; an absent link
// is success. Equivalent to: ip link del $name
func DeleteLink(name string) error {
	l, err := netlink.LinkByName(name)
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting %s: %w", name, err)
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
		_, err := netlink.LinkByName(ifname)
		if IsNotFound(err) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}
