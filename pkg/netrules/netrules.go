// Package netrules owns what a network's netfilter rules are: the Set a
// network asks for, the names of its chains, and their renderings for the
// two backends (iptables-restore input, an nft script), together with the
// plan that brings the rules a node has to the ones it should have. It is
// pure: the adapters that list rules, exec and commit live with the plugin.
//
// What the rules accept (DESIGN.md §1): a network's own traffic only —
// within its bridge, from its pods out of the node, replies to its pods,
// and connections DNAT'ed to its pods (NodePort, hostPort). Forwarding
// between two netsteer networks is never accepted; the node's policy
// decides it. The forward accept is placed after the operator's own rules,
// so only a chain policy is overridden.
package netrules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// Set is one family's network-wide netfilter rules. It depends only on the
// network's config, so every ADD of the network asks for the same set.
type Set struct {
	Network string
	IPv6    bool
	Bridge  string
	// Masquerade is ipMasq; Subnets are the pod subnets whose traffic
	// leaving the node is masqueraded, NoMasq the destinations exempt.
	Masquerade bool
	Subnets    []netip.Prefix
	NoMasq     []netip.Prefix
}

// Validate refuses names that would mean something else inside a rule:
// the network and the bridge must be literals of [A-Za-z0-9_.-] (iptables
// reads "+" as a wildcard, nft parses quotes and braces). Config
// validation refuses them earlier; this keeps the renderers safe on
// their own.
func (s Set) Validate() error {
	for _, n := range []struct{ what, v string }{{"network", s.Network}, {"bridge", s.Bridge}} {
		if n.v == "" || strings.Trim(n.v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" || n.v[0] == '-' {
			return fmt.Errorf("%s name %q cannot appear in a netfilter rule", n.what, n.v)
		}
	}
	return nil
}

// Family is "ipv4" or "ipv6", as messages name it.
func (s Set) Family() string {
	if s.IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// Digest identifies the set's contents: equal digests, equal rules.
func (s Set) Digest() string {
	parts := []string{s.Network, s.Family(), s.Bridge}
	if s.Masquerade {
		parts = append(parts, "masq")
		for _, p := range s.Subnets {
			parts = append(parts, "s"+p.String())
		}
		for _, p := range s.NoMasq {
			parts = append(parts, "n"+p.String())
		}
	}
	return hash(parts...)[:16]
}

// MasqChain and FwdChain are the network's own iptables chains, filling
// the xtables limit of 28 bytes with hash digits (72 and 76 bits: issue
// 9, class 5); OutChain is shared by every network: it returns for
// traffic to a netsteer bridge and accepts the rest, which is what "out
// of the node" means.
func MasqChain(network string) string { return "NSTR-MASQ-" + hash(network)[:18] }
func FwdChain(network string) string  { return "NSTR-FWD-" + hash(network)[:19] }

// CheckOwners refuses to touch a chain of the set's that another network
// uses: a jump to it from a built-in chain carries the other network's
// Comment. That is what two network names whose chain names collide look
// like; rewriting the chain would replace the other network's rules
// (issue 9, class 5). The error, code 104, names both networks.
func CheckOwners(s Set, listings map[string]Listing) error {
	for _, t := range s.tables(nil) {
		for _, r := range listings[t.name].Rules[t.builtin] {
			if !strings.HasSuffix(r, " -j "+t.target) {
				continue
			}
			owner, ok := commentOf(r)
			if ok && owner != s.Network {
				return cnierr.Collided(t.name+" chain", t.target, "netsteer network "+owner, "netsteer network "+s.Network)
			}
		}
	}
	return nil
}

// commentOf is the network a rule's netsteer comment names.
func commentOf(rule string) (network string, ok bool) {
	_, rest, found := strings.Cut(rule, "--comment "+Comment(""))
	if !found {
		return "", false
	}
	network, _, _ = strings.Cut(rest, " ")
	return network, network != ""
}

const OutChain = "NSTR-OUT"

// Comment marks the jump rules in the built-in chains.
func Comment(network string) string { return "netsteer:" + network }

func multicast(ipv6 bool) string {
	if ipv6 {
		return "ff00::/8"
	}
	return "224.0.0.0/4"
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// bridges is the sorted, deduplicated list of netsteer bridges, ours
// included.
func bridges(own string, peers []string) []string {
	out := slices.Clone(peers)
	out = append(out, own)
	slices.Sort(out)
	return slices.Compact(out)
}
