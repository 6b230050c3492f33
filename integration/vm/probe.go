package vm

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// HostHasIPVLAN reports whether the running kernel can create ipvlan links.
// It tries, in a throwaway network namespace of its own: a veth pair, then
// an ipvlan link on one end. EOPNOTSUPP ("Unknown device type" in ip's
// words) for either means no; other errors are returned.
func HostHasIPVLAN() (bool, error) {
	type result struct {
		ok  bool
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread moves to a new netns and is never unlocked, so the
		// runtime discards it, and the netns with it, when this returns.
		runtime.LockOSThread()
		ok, err := probeIPVLAN()
		ch <- result{ok, err}
	}()
	r := <-ch
	return r.ok, r.err
}

func probeIPVLAN() (bool, error) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return false, fmt.Errorf("probing ipvlan: creating netns: %w", err)
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return false, fmt.Errorf("probing ipvlan: opening netlink: %w", err)
	}
	defer h.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nst-probe0"}, PeerName: "nst-probe1"}
	if err := h.LinkAdd(veth); err != nil {
		return unsupported("veth nst-probe0", err)
	}
	master, err := h.LinkByName("nst-probe0")
	if err != nil {
		return false, fmt.Errorf("probing ipvlan: finding nst-probe0: %w", err)
	}
	iv := &netlink.IPVlan{LinkAttrs: netlink.LinkAttrs{Name: "nst-probe2", ParentIndex: master.Attrs().Index}, Mode: netlink.IPVLAN_MODE_L2}
	if err := h.LinkAdd(iv); err != nil {
		return unsupported("ipvlan nst-probe2", err)
	}
	return true, nil
}

func unsupported(what string, err error) (bool, error) {
	if errors.Is(err, unix.EOPNOTSUPP) {
		return false, nil
	}
	return false, fmt.Errorf("probing ipvlan: creating %s: %w", what, err)
}
