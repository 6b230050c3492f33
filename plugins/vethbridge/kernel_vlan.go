package main

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/nlx"
)

// errNoVLANFiltering is a kernel built without CONFIG_BRIDGE_VLAN_FILTERING:
// it refuses vlan_filtering on a bridge (EOPNOTSUPP) and reports no VLAN
// attributes for one.
var errNoVLANFiltering = errors.New("this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)")

// vlanFilteringError names errNoVLANFiltering when err is the kernel
// refusing VLAN filtering.
func vlanFilteringError(err error) error {
	if errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("%w: %w", errNoVLANFiltering, err)
	}
	return err
}

// hasVLANFiltering reports whether the kernel can filter VLANs on br: such
// a kernel always reports the bridge's default PVID.
func hasVLANFiltering(br *netlink.Bridge) bool { return br.VlanDefaultPVID != nil }

// setPortVLANs gives a new bridge port its VLAN table.
func setPortVLANs(port netlink.Link, p PortVLANs) error {
	if p.Flush {
		if err := flushPortVLANs(port); err != nil {
			return err
		}
	}
	for _, v := range p.Set {
		var err error
		if v.Min == v.Max {
			err = netlink.BridgeVlanAdd(port, uint16(v.Min), v.PVID, v.Untagged, false, true)
		} else {
			err = netlink.BridgeVlanAddRange(port, uint16(v.Min), uint16(v.Max), v.PVID, v.Untagged, false, true)
		}
		if err != nil {
			return fmt.Errorf("adding VLAN %d-%d: %w", v.Min, v.Max, err)
		}
	}
	return nil
}

// flushPortVLANs removes every VLAN of port. Equivalent to:
// bridge vlan del dev $port vid $vid master (for each)
func flushPortVLANs(port netlink.Link) error {
	infos, err := portVLANInfos(port)
	if err != nil {
		return err
	}
	for _, info := range infos {
		if err := netlink.BridgeVlanDel(port, info.Vid, false, false, false, true); err != nil {
			return fmt.Errorf("removing default VLAN %d: %w", info.Vid, err)
		}
	}
	return nil
}

func (kernelHost) PortVLANs(name string) (PortVLANTable, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return PortVLANTable{}, err
	}
	var t PortVLANTable
	if idx := l.Attrs().MasterIndex; idx != 0 {
		m, err := netlink.LinkByIndex(idx)
		if err != nil {
			return PortVLANTable{}, fmt.Errorf("bridge of %s: %w", name, err)
		}
		if br, ok := m.(*netlink.Bridge); ok {
			if !hasVLANFiltering(br) {
				return PortVLANTable{}, errNoVLANFiltering
			}
			t.DefaultPVID = int(*br.VlanDefaultPVID)
		}
	}
	infos, err := portVLANInfos(l)
	if err != nil {
		return PortVLANTable{}, err
	}
	for _, info := range infos {
		t.VLANs = append(t.VLANs, PortVLAN{Min: int(info.Vid), Max: int(info.Vid), PVID: info.PortVID(), Untagged: info.EngressUntag()})
	}
	return t, nil
}

// portVLANInfos lists port's VLANs, one per ID (the dump is not
// compressed into ranges). Equivalent to: bridge vlan show dev $port
func portVLANInfos(port netlink.Link) ([]*nl.BridgeVlanInfo, error) {
	infos, err := nlx.RetryDump(func() ([]*nl.BridgeVlanInfo, error) {
		all, err := netlink.BridgeVlanList()
		return all[int32(port.Attrs().Index)], err
	})
	if err != nil {
		return nil, fmt.Errorf("listing bridge VLANs: %w", err)
	}
	return infos, nil
}
