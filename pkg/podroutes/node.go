package podroutes

import (
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// Node is what the agent reads from a Kubernetes Node: its name, its pod
// CIDRs and its InternalIP addresses, as the API server gave them
// (unparsed: every field is validated where it is used, since anyone who
// can write a Node object chooses them).
type Node struct {
	Name        string
	PodCIDRs    []string
	InternalIPs []string
}

// NodeFromAPI picks the fields the agent uses out of a Node object:
// spec.podCIDRs (or the older single spec.podCIDR) and every
// status.addresses entry of type InternalIP, in the API's order.
func NodeFromAPI(n *corev1.Node) Node {
	out := Node{Name: n.Name, PodCIDRs: n.Spec.PodCIDRs}
	if len(out.PodCIDRs) == 0 && n.Spec.PodCIDR != "" {
		out.PodCIDRs = []string{n.Spec.PodCIDR}
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			out.InternalIPs = append(out.InternalIPs, a.Address)
		}
	}
	return out
}

// ValueError is a Node field the agent refuses, with the offending value.
type ValueError struct {
	Field string // "podCIDR" or "InternalIP"
	Value string
	Err   error
}

func (e *ValueError) Error() string { return fmt.Sprintf("%s %q: %v", e.Field, e.Value, e.Err) }
func (e *ValueError) Unwrap() error { return e.Err }

var (
	errNotCanonical = errors.New("has host bits set or is not in canonical form")
	errMapped       = errors.New("is an IPv4-mapped IPv6 address")
	errReserved     = errors.New("overlaps a loopback, link-local, multicast or unspecified range")
)

// reserved are ranges no pod CIDR and no peer address may touch. Because
// they are spread over the address space, any very short prefix (0.0.0.0/0,
// 128.0.0.0/1, ::/1 …) overlaps one of them and is refused too.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/3"), // multicast and class E, up to 255.255.255.255
	netip.MustParsePrefix("::/127"),      // :: and ::1
	netip.MustParsePrefix("::ffff:0:0/96"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// ParsePodCIDR parses one pod CIDR from a Node strictly: canonical form
// (no host bits, no zone, no IPv4-mapped IPv6), and not overlapping
// loopback, link-local, multicast or unspecified ranges, which also
// excludes default routes and other very short prefixes.
func ParsePodCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, &ValueError{Field: "podCIDR", Value: s, Err: err}
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, &ValueError{Field: "podCIDR", Value: s, Err: errMapped}
	}
	if p.Masked() != p || p.String() != s {
		return netip.Prefix{}, &ValueError{Field: "podCIDR", Value: s, Err: errNotCanonical}
	}
	for _, r := range reserved {
		if r.Overlaps(p) {
			return netip.Prefix{}, &ValueError{Field: "podCIDR", Value: s, Err: errReserved}
		}
	}
	return p, nil
}

// ParseNodeIP parses one InternalIP from a Node strictly: canonical form, no
// zone, no IPv4-mapped IPv6, not in a loopback, link-local, multicast or
// unspecified range.
func ParseNodeIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, &ValueError{Field: "InternalIP", Value: s, Err: err}
	}
	if a.Is4In6() {
		return netip.Addr{}, &ValueError{Field: "InternalIP", Value: s, Err: errMapped}
	}
	if a.Zone() != "" || a.String() != s {
		return netip.Addr{}, &ValueError{Field: "InternalIP", Value: s, Err: errNotCanonical}
	}
	for _, r := range reserved {
		if r.Contains(a) {
			return netip.Addr{}, &ValueError{Field: "InternalIP", Value: s, Err: errReserved}
		}
	}
	return a, nil
}
