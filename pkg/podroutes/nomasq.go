package podroutes

import (
	"fmt"
	"net/netip"
	"slices"
)

// NoMasq says how to derive the vethbridge key noMasqueradeCIDRs from the
// cluster's Node objects.
type NoMasq struct {
	// Extra prefixes kept as given, typically the Service CIDR, which no
	// Node carries.
	Extra []netip.Prefix
	// Bits4 and Bits6, when non-zero, widen every node's pod CIDR of that
	// family to this prefix length: the length of the cluster CIDR the
	// controller manager allocates node CIDRs from (16 for 10.244.0.0/16).
	// Then nodes that join later are covered too; without it the list holds
	// exactly the pod CIDRs of the nodes that exist now.
	Bits4, Bits6 int
}

// NoMasqueradeCIDRs returns the prefixes pod traffic must not be
// masqueraded towards: every valid pod CIDR of nodes (widened as o says),
// plus o.Extra, with prefixes inside others dropped and sibling halves
// merged, sorted IPv4 first. Invalid pod CIDRs are left out and returned as
// skips, as Plan refuses them.
func NoMasqueradeCIDRs(nodes []Node, o NoMasq) ([]netip.Prefix, []Skip, error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	all := slices.Clone(o.Extra)
	var skips []Skip
	for _, n := range nodes {
		for _, s := range n.PodCIDRs {
			p, err := ParsePodCIDR(s)
			if err != nil {
				skips = append(skips, Skip{Node: n.Name, CIDR: s, Reason: err.Error()})
				continue
			}
			all = append(all, o.widen(p))
		}
	}
	return collapse(all), skips, nil
}

func (o NoMasq) check() error {
	if o.Bits4 < 0 || o.Bits4 > 32 || (o.Bits4 > 0 && o.Bits4 < 8) {
		return fmt.Errorf("IPv4 cluster prefix length /%d: want 8 to 32", o.Bits4)
	}
	if o.Bits6 < 0 || o.Bits6 > 128 || (o.Bits6 > 0 && o.Bits6 < 16) {
		return fmt.Errorf("IPv6 cluster prefix length /%d: want 16 to 128", o.Bits6)
	}
	for _, p := range o.Extra {
		if !p.IsValid() || p.Masked() != p || p.Bits() == 0 {
			return fmt.Errorf("extra prefix %s: want a masked, non-default prefix", p)
		}
	}
	return nil
}

func (o NoMasq) widen(p netip.Prefix) netip.Prefix {
	bits := o.Bits6
	if p.Addr().Is4() {
		bits = o.Bits4
	}
	if bits == 0 || bits >= p.Bits() {
		return p
	}
	return netip.PrefixFrom(p.Addr(), bits).Masked()
}

// collapse returns the smallest sorted list of prefixes covering exactly
// the union of ps.
func collapse(ps []netip.Prefix) []netip.Prefix {
	out := slices.Clone(ps)
	for {
		slices.SortFunc(out, comparePrefix)
		out = slices.Compact(out)
		next := dropCovered(out)
		next = mergeSiblings(next)
		if len(next) == len(out) {
			return next
		}
		out = next
	}
}

// dropCovered drops every prefix inside an earlier one; ps is sorted, so a
// covering prefix comes before what it covers.
func dropCovered(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Contains(p.Addr()) && out[n-1].Bits() <= p.Bits() {
			continue
		}
		out = append(out, p)
	}
	return out
}

// mergeSiblings replaces two adjacent halves of one prefix by that prefix.
func mergeSiblings(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for i := 0; i < len(ps); i++ {
		if i+1 < len(ps) && ps[i].Bits() == ps[i+1].Bits() && ps[i].Bits() > 0 {
			parent := netip.PrefixFrom(ps[i].Addr(), ps[i].Bits()-1).Masked()
			if parent.Addr() == ps[i].Addr() && parent.Contains(ps[i+1].Addr()) {
				out = append(out, parent)
				i++
				continue
			}
		}
		out = append(out, ps[i])
	}
	return out
}
