package netconf

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// reservedBlocks are address blocks no pod subnet may overlap: a subnet
// reaching into one of them is either a typo or an attempt to make the
// network's rules (masquerade with the subnet as source, forward accepts)
// match traffic that is not the pods'. A zero-length prefix overlaps all.
var reservedBlocks = []struct {
	block netip.Prefix
	what  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" (0.0.0.0/8)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "the broadcast address"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// PodSubnetProblem returns why p cannot be a pod subnet, or "" when it can:
// a zero-length prefix (the whole address family), an IPv4-mapped IPv6
// prefix (it would match IPv4 traffic in one family's rules and nothing in
// the other's), and any prefix overlapping the unspecified, loopback,
// link-local, multicast or broadcast blocks. Host bits do not matter.
func PodSubnetProblem(p netip.Prefix) string {
	if !p.IsValid() {
		return "not a valid prefix"
	}
	p = p.Masked()
	switch {
	case p.Bits() == 0:
		return "a zero-length prefix is the whole address family, not a pod subnet"
	case p.Addr().Is4In6():
		return "IPv4-mapped IPv6 prefixes are not pod subnets; write the IPv4 prefix"
	}
	for _, r := range reservedBlocks {
		if p.Overlaps(r.block) {
			return fmt.Sprintf("overlaps %s %s, so it cannot be a pod subnet", r.what, r.block)
		}
	}
	return ""
}

// LinkAddr is one address of the node and the link holding it.
type LinkAddr struct {
	Link string
	Addr netip.Addr
}

// Families is the address families a check needs the node's addresses
// of. Listing one family only matters on a busy node: every host veth
// holds an IPv6 link-local address, so a dump of both families grows with
// the pods while an IPv4 one does not.
type Families struct{ V4, V6 bool }

// With is f plus the family of a.
func (f Families) With(a netip.Addr) Families {
	if a.Unmap().Is4() {
		f.V4 = true
	} else {
		f.V6 = true
	}
	return f
}

// Within reports whether p lies inside one of subnets: every address of p
// is an address of that subnet.
func Within(p netip.Prefix, subnets []KeyedPrefix) bool {
	for _, s := range subnets {
		if s.Prefix.Bits() <= p.Bits() && s.Prefix.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// FamiliesOf is the families of the subnets.
func FamiliesOf(subnets []KeyedPrefix) Families {
	var f Families
	for _, s := range subnets {
		f = f.With(s.Prefix.Addr())
	}
	return f
}

// ValidatePodSubnet checks a pod subnet named by config key: code 7 naming
// key and subnet when PodSubnetProblem finds something, or when the subnet
// contains one of the node's own addresses on a link other than ownLink (the
// network's bridge, which holds the gateway address of its own subnet).
// Pass node nil to skip the node-address check (ipvlan, whose pods share the
// master's subnet by design).
func ValidatePodSubnet(key string, p netip.Prefix, node []LinkAddr, ownLink string) error {
	if why := PodSubnetProblem(p); why != "" {
		return cnierr.InvalidConfig(key, p, why)
	}
	for _, a := range node {
		if a.Link != ownLink && p.Masked().Contains(a.Addr.Unmap()) {
			return cnierr.InvalidConfig(key, p, fmt.Sprintf("contains the node's own address %s on %s", a.Addr, a.Link))
		}
	}
	return nil
}

// KeyedPrefix is a prefix and the config key it was read from.
type KeyedPrefix struct {
	Key    string
	Prefix netip.Prefix
}

// IPAMSubnets reads the pod subnets the "ipam" section of a network config
// declares, in the shapes of the reference IPAM plugins: host-local's
// "subnet" and "ranges[i][j].subnet", static's "addresses[i].address".
// Other IPAM plugins declare nothing we can read; what they hand out is
// checked after allocation instead. A subnet that does not parse is code 7
// naming it; a section of another shape is left to the IPAM plugin.
func IPAMSubnets(config []byte) ([]KeyedPrefix, error) {
	var conf struct {
		IPAM ipamShapes `json:"ipam"`
	}
	if json.Unmarshal(config, &conf) != nil {
		return nil, nil
	}
	raw := conf.IPAM.subnets()
	if len(raw) > MaxSubnets {
		return nil, cnierr.InvalidConfig("ipam", fmt.Sprintf("%d subnets", len(raw)), fmt.Sprintf("more than %d subnets", MaxSubnets))
	}
	out := make([]KeyedPrefix, 0, len(raw))
	for _, r := range raw {
		p, err := netip.ParsePrefix(r.value)
		if err != nil {
			return nil, cnierr.InvalidConfig(r.key, r.value, err.Error())
		}
		out = append(out, KeyedPrefix{Key: r.key, Prefix: p})
	}
	return out, nil
}

// DeclaredSubnets lists the subnets the "ipam" section declares in the
// shapes IPAMSubnets reads, as written and unchecked, for readers that
// must not fail over what ADD would refuse (STATUS). A section of another
// shape declares none.
func DeclaredSubnets(config []byte) []string {
	var conf struct {
		IPAM ipamShapes `json:"ipam"`
	}
	_ = json.Unmarshal(config, &conf) // what did decode still declares its subnets
	var out []string
	for _, s := range conf.IPAM.subnets() {
		out = append(out, s.value)
	}
	return out
}

// ipamShapes are the keys of the reference IPAM plugins that declare
// subnets.
type ipamShapes struct {
	Subnet string `json:"subnet"`
	Ranges [][]struct {
		Subnet string `json:"subnet"`
	} `json:"ranges"`
	Addresses []struct {
		Address string `json:"address"`
	} `json:"addresses"`
}

// keyedValue is a subnet as written and the key it was read from.
type keyedValue struct{ key, value string }

// subnets lists the subnets as written, in config order.
func (s ipamShapes) subnets() []keyedValue {
	var raw []keyedValue
	if s.Subnet != "" {
		raw = append(raw, keyedValue{"ipam.subnet", s.Subnet})
	}
	for i, set := range s.Ranges {
		for j, r := range set {
			raw = append(raw, keyedValue{fmt.Sprintf("ipam.ranges[%d][%d].subnet", i, j), r.Subnet})
		}
	}
	for i, a := range s.Addresses {
		raw = append(raw, keyedValue{fmt.Sprintf("ipam.addresses[%d].address", i), a.Address})
	}
	return raw
}

// ValidateIPAMSubnets checks every subnet IPAMSubnets finds in config with
// ValidatePodSubnet; node and ownLink as there.
func ValidateIPAMSubnets(config []byte, node []LinkAddr, ownLink string) error {
	subnets, err := IPAMSubnets(config)
	if err != nil {
		return err
	}
	return ValidateSubnets(subnets, node, ownLink)
}

// ValidateSubnets checks each subnet with ValidatePodSubnet; node and
// ownLink as there.
func ValidateSubnets(subnets []KeyedPrefix, node []LinkAddr, ownLink string) error {
	for _, s := range subnets {
		if err := ValidatePodSubnet(s.Key, s.Prefix, node, ownLink); err != nil {
			return err
		}
	}
	return nil
}
