package main

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/netsteer/netsteer/pkg/cnierr"
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
	var conf struct {
		IPAM struct {
			Subnet string `json:"subnet"`
			Ranges [][]struct {
				Subnet string `json:"subnet"`
			} `json:"ranges"`
			Addresses []struct {
				Address string `json:"address"`
			} `json:"addresses"`
		} `json:"ipam"`
	}
	_ = json.Unmarshal(raw, &conf) // Load already accepted raw; a shape we do not know names no family
	subnets := []string{conf.IPAM.Subnet}
	for _, set := range conf.IPAM.Ranges {
		for _, r := range set {
			subnets = append(subnets, r.Subnet)
		}
	}
	for _, a := range conf.IPAM.Addresses {
		subnets = append(subnets, a.Address)
	}
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s); err == nil {
			v4, v6 = v4 || p.Addr().Unmap().Is4(), v6 || !p.Addr().Unmap().Is4()
		}
	}
	if !v4 && !v6 {
		v4 = true
	}
	return v4, v6
}
