package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// The container side of kernelContainer: addresses, sysctls, inspection.

func (kernelContainer) Configure(netns, ifname string, res *current.Result) error {
	return nlx.InNetns(netns, func() error {
		if err := announceAddresses(ifname); err != nil {
			return err
		}
		if err := nlx.ConfigureInterface(ifname, res); err != nil {
			return fmt.Errorf("configuring %s: %w", ifname, err)
		}
		return nil
	})
}

// announceAddresses makes the kernel send a gratuitous ARP / unsolicited
// neighbour advertisement when ifname comes up, as upstream ipvlan does:
// the slave shares its master's MAC, and a reused pod IP must not keep
// pointing at another node's MAC in the neighbours' caches.
func announceAddresses(ifname string) error {
	for _, n := range []struct {
		key string
		// v6 keys are absent when IPv6 is disabled in the netns, and then
		// there is nothing to announce.
		v6 bool
	}{{"net/ipv4/conf/IFNAME/arp_notify", false}, {"net/ipv6/conf/IFNAME/ndisc_notify", true}} {
		k, err := sysctl.ParseKey(n.key, ifname)
		if err != nil {
			return err
		}
		err = nlx.ProcSys.Write(k, "1")
		if err != nil && !(n.v6 && errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	return nil
}

func (kernelContainer) WriteSysctls(netns string, settings []netconf.Setting) error {
	return nlx.WriteSysctls(netns, settings)
}

func (kernelContainer) Inspect(netns, ifname string, keys []sysctl.Key) (ContainerState, error) {
	var st ContainerState
	err := nlx.InNetns(netns, func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		st = linkState(l)
		if st.L3, err = nlx.ReadL3(l); err != nil {
			return err
		}
		st.Sysctls, err = nlx.ReadSysctls(keys)
		return err
	})
	return st, err
}

func linkState(l netlink.Link) ContainerState {
	a := l.Attrs()
	st := ContainerState{
		Kind: l.Type(), ParentIndex: a.ParentIndex, Alias: a.Alias,
		MAC: a.HardwareAddr, Up: a.Flags&net.FlagUp != 0,
	}
	if iv, ok := l.(*netlink.IPVlan); ok {
		st.Mode, st.Flag = modeOf(iv.Mode), flagOf(iv.Flag)
	}
	return st
}

func modeOf(m netlink.IPVlanMode) Mode {
	switch m {
	case netlink.IPVLAN_MODE_L2:
		return ModeL2
	case netlink.IPVLAN_MODE_L3:
		return ModeL3
	case netlink.IPVLAN_MODE_L3S:
		return ModeL3S
	}
	return Mode(fmt.Sprintf("mode(%d)", m))
}

func flagOf(f netlink.IPVlanFlag) Flag {
	switch f {
	case netlink.IPVLAN_FLAG_BRIDGE:
		return FlagBridge
	case netlink.IPVLAN_FLAG_PRIVATE:
		return FlagPrivate
	case netlink.IPVLAN_FLAG_VEPA:
		return FlagVEPA
	}
	return Flag(fmt.Sprintf("flag(%d)", f))
}
