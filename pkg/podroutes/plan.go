// Package podroutes owns the routes that carry pod traffic between the nodes
// of an L2 cluster without encapsulation: on each node, one route per other
// node, that node's pod CIDR via its InternalIP, the way flannel's host-gw
// backend does. Routes are marked with a routing protocol number of ours
// (Protocol), so the agent lists, replaces and deletes only its own and
// never a route someone else installed. Plan is the pure part (which routes
// the Node objects ask for, which peers are refused and why); Reconciler
// applies a plan to a Table; the informer loop in agent.go drives it.
package podroutes

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Protocol is the rtnetlink routing protocol number (rtm_protocol) that marks
// a route as the agent's: `ip route show proto 158`. It is not among the
// numbers the kernel and iproute2 reserve (0–4 for the kernel and static
// routes, 8–18, 42, 99, 186–192 for routing daemons), and is a flag of the
// agent in case another program on the node already uses it.
const Protocol = 158

// Route is one route in the node's main table.
// Equivalent to: ip route replace $Dst via $Via dev $Dev proto $Proto
type Route struct {
	Dst   netip.Prefix
	Via   netip.Addr
	Dev   string
	Proto int
}

func (r Route) String() string {
	s := r.Dst.String()
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	return fmt.Sprintf("%s proto %d", s, r.Proto)
}

// HostAddr is one address configured on the node, with its prefix length
// and the link it is on, as `ip -br addr` shows it.
type HostAddr struct {
	Prefix netip.Prefix // address with its prefix length, host bits kept
	Dev    string
}

// Skip is a peer's pod CIDR the agent does not route, and why.
type Skip struct {
	Node   string
	CIDR   string // the pod CIDR as the Node gave it; empty when the whole node is skipped
	Reason string
}

func (s Skip) String() string {
	if s.Node == "" {
		return fmt.Sprintf("pod CIDR %s: %s", s.CIDR, s.Reason)
	}
	if s.CIDR == "" {
		return fmt.Sprintf("node %s: %s", s.Node, s.Reason)
	}
	return fmt.Sprintf("node %s: pod CIDR %s: %s", s.Node, s.CIDR, s.Reason)
}

// Host is what a plan needs to know about the node it runs on.
type Host struct {
	Node  string     // our own Node's name; its entry gives our pod CIDRs
	Addrs []HostAddr // every address on the node
	Proto int        // protocol number to put on planned routes
}

// Plan returns the routes the peers in nodes ask for on host, sorted by
// destination, and the pod CIDRs it refuses. A peer's pod CIDR is routed only
// when it is valid (ParsePodCIDR), the peer has a valid InternalIP of the
// same family inside a subnet directly connected on this node, and the CIDR
// overlaps none of: this node's addresses and connected subnets, our own pod
// CIDRs, and the pod CIDRs of other peers (then both peers are refused, since
// neither can be told to be right). Only the first pod CIDR of each family
// counts, as in Kubernetes.
func Plan(h Host, nodes []Node) ([]Route, []Skip) {
	own := ownPodCIDRs(h.Node, nodes)
	var cands []candidate
	var skips []Skip
	for _, n := range sortedPeers(h.Node, nodes) {
		c, s := peerCandidates(h, n, own)
		cands, skips = append(cands, c...), append(skips, s...)
	}
	routes, conflicts := withoutConflicts(cands, h.Proto)
	skips = append(skips, conflicts...)
	slices.SortFunc(routes, func(a, b Route) int { return comparePrefix(a.Dst, b.Dst) })
	slices.SortFunc(skips, func(a, b Skip) int { return strings.Compare(a.String(), b.String()) })
	return routes, skips
}

type candidate struct {
	node string
	cidr netip.Prefix
	via  netip.Addr
	dev  string
}

func sortedPeers(self string, nodes []Node) []Node {
	var peers []Node
	for _, n := range nodes {
		if n.Name != self {
			peers = append(peers, n)
		}
	}
	slices.SortFunc(peers, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	return peers
}

// ownPodCIDRs are our own Node's valid pod CIDRs; a peer claiming an
// overlapping one would take our pods' traffic.
func ownPodCIDRs(self string, nodes []Node) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range nodes {
		if n.Name != self {
			continue
		}
		for _, s := range n.PodCIDRs {
			if p, err := ParsePodCIDR(s); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// peerCandidates checks one peer against this host on its own; conflicts
// between peers are withoutConflicts' job.
func peerCandidates(h Host, n Node, own []netip.Prefix) ([]candidate, []Skip) {
	var cands []candidate
	var skips []Skip
	seen := map[bool]bool{} // family (is4) already routed
	for _, s := range n.PodCIDRs {
		cidr, err := ParsePodCIDR(s)
		if err != nil {
			skips = append(skips, Skip{Node: n.Name, CIDR: s, Reason: err.Error()})
			continue
		}
		if seen[cidr.Addr().Is4()] {
			skips = append(skips, Skip{Node: n.Name, CIDR: s, Reason: "a second pod CIDR of the same family"})
			continue
		}
		seen[cidr.Addr().Is4()] = true
		c, reason := peerRoute(h, n, cidr, own)
		if reason != "" {
			skips = append(skips, Skip{Node: n.Name, CIDR: s, Reason: reason})
			continue
		}
		cands = append(cands, c)
	}
	return cands, skips
}

// peerRoute finds the gateway for one pod CIDR of peer n, or says why there
// is none.
func peerRoute(h Host, n Node, cidr netip.Prefix, own []netip.Prefix) (candidate, string) {
	via, reason := nodeIP(n, cidr.Addr().Is4())
	if reason != "" {
		return candidate{}, reason
	}
	for _, a := range h.Addrs {
		if a.Prefix.Addr() == via {
			return candidate{}, fmt.Sprintf("InternalIP %s is an address of this node", via)
		}
		if cidr.Overlaps(a.Prefix.Masked()) {
			return candidate{}, fmt.Sprintf("overlaps %s, directly connected on %s", a.Prefix.Masked(), a.Dev)
		}
	}
	for _, p := range own {
		if cidr.Overlaps(p) {
			return candidate{}, fmt.Sprintf("overlaps this node's own pod CIDR %s", p)
		}
	}
	dev, ok := connectedDev(h.Addrs, via)
	if !ok {
		return candidate{}, fmt.Sprintf("InternalIP %s is not in a subnet directly connected to this node (not on the same L2 segment)", via)
	}
	return candidate{node: n.Name, cidr: cidr, via: via, dev: dev}, ""
}

// nodeIP is the peer's first valid InternalIP of the family.
func nodeIP(n Node, is4 bool) (netip.Addr, string) {
	var bad []string
	for _, s := range n.InternalIPs {
		a, err := ParseNodeIP(s)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if a.Is4() == is4 {
			return a, ""
		}
	}
	fam := "IPv6"
	if is4 {
		fam = "IPv4"
	}
	if len(bad) > 0 {
		return netip.Addr{}, fmt.Sprintf("no valid %s InternalIP (%s)", fam, strings.Join(bad, "; "))
	}
	return netip.Addr{}, fmt.Sprintf("no %s InternalIP", fam)
}

// connectedDev is the link whose subnet holds ip, the longest match winning.
// Host routes (/32, /128) say nothing about a segment and are ignored.
func connectedDev(addrs []HostAddr, ip netip.Addr) (string, bool) {
	best, dev := -1, ""
	for _, a := range addrs {
		p := a.Prefix
		if p.Bits() >= p.Addr().BitLen() || !p.Masked().Contains(ip) {
			continue
		}
		if p.Bits() > best {
			best, dev = p.Bits(), a.Dev
		}
	}
	return dev, best >= 0
}

// withoutConflicts drops every candidate whose CIDR overlaps another peer's.
func withoutConflicts(cands []candidate, proto int) ([]Route, []Skip) {
	var routes []Route
	var skips []Skip
	for i, c := range cands {
		var with []string
		for j, o := range cands {
			if i != j && c.node != o.node && c.cidr.Overlaps(o.cidr) {
				with = append(with, fmt.Sprintf("%s of node %s", o.cidr, o.node))
			}
		}
		if len(with) > 0 {
			skips = append(skips, Skip{Node: c.node, CIDR: c.cidr.String(), Reason: "overlaps " + strings.Join(with, ", ")})
			continue
		}
		routes = append(routes, Route{Dst: c.cidr, Via: c.via, Dev: c.dev, Proto: proto})
	}
	return routes, skips
}

// comparePrefix orders IPv4 before IPv6, then by address and length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
