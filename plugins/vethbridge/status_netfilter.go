package main

import (
	"fmt"
	"net/netip"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
)

// firewallStatus is STATUS's netfilter part: the backend the config
// resolves to must be usable for every family the network's IPAM
// config names, when the network has rules at all. It names the backend
// and the remedy.
func (p *Plugin) firewallStatus(c *Config) error {
	v4, v6 := ipamFamilies(c.Raw)
	for _, f := range []struct {
		on   bool
		ipv6 bool
		name string
	}{{v4, false, "IPv4"}, {v6, true, "IPv6"}} {
		if !f.on {
			continue
		}
		backend, err := p.Firewall.Usable(c.IPMasqBackend, f.ipv6)
		if err != nil {
			return cnierr.NotAvailable(fmt.Sprintf("netfilter backend %s is not usable for %s: %v", backend, f.name, err))
		}
	}
	return nil
}

// ipamFamilies reports which families the IPAM config's subnets (the
// host-local and static shapes: ipam.subnet, ipam.ranges, ipam.addresses)
// use. A config naming none is taken as IPv4, the family every ADD of an
// IPAM plugin that decides for itself most likely gets.
func ipamFamilies(raw []byte) (v4, v6 bool) {
	for _, s := range netconf.DeclaredSubnets(raw) {
		if p, err := netip.ParsePrefix(s); err == nil {
			v4, v6 = v4 || p.Addr().Unmap().Is4(), v6 || !p.Addr().Unmap().Is4()
		}
	}
	return v4 || !v6, v6 // none declared: IPv4
}
