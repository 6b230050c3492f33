package netrules

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// The nftables rendering: one table, ours alone, shared by every network.
// Networks join it through set and map elements keyed by bridge, so a
// network's first ADD is one transaction and later ADDs change nothing:
//
//	table inet netsteer
//	  set bridges  { type ifname }            every netsteer bridge ("out of the node" = not one of these)
//	  map nets     { type ifname : verdict }  bridge → jump fwd-<h>
//	  map masq4/6  { type ifname : verdict }  bridge → jump masq4/6-<h> (ipMasq)
//	  chain forward     (filter hook forward): oifname vmap @nets; iifname vmap @nets
//	  chain postrouting (nat hook postrouting): per family iifname vmap @masq4/6
//	  chain fwd-<h>: within the bridge, replies and DNAT'ed connections to it, and
//	                 from it to anything but a netsteer bridge: accept
//	  chain masq4-<h>: not from a pod subnet, multicast, noMasqueradeCIDRs, the bridge: return; masquerade
//
// Every rule carries a comment that hashes its text, so a listing tells
// whether a chain holds exactly the rules we wrote.

// Table is our nftables table (family inet).
const Table = "netsteer"

// NFTFwdChain and NFTMasqChain are the network's chains in our table,
// with 128 bits of hash (nft names may be 255 bytes; issue 9, class 5).
func NFTFwdChain(network string) string { return "fwd-" + hash(network)[:32] }
func NFTMasqChain(network string, ipv6 bool) string {
	if ipv6 {
		return "masq6-" + hash(network)[:32]
	}
	return "masq4-" + hash(network)[:32]
}

func masqMap(ipv6 bool) string {
	if ipv6 {
		return "masq6"
	}
	return "masq4"
}

// NFTState is our table as `nft -j list table inet netsteer` reports it.
type NFTState struct {
	Exists bool
	// Chains holds each chain's rule comments, in order.
	Chains map[string][]string
	// Elems holds each set's keys, and each map's key → jump target.
	Elems map[string]map[string]string
}

// ParseNFTJSON reads `nft -j list table` output; empty input is an absent table.
func ParseNFTJSON(out []byte) (NFTState, error) {
	st := NFTState{Chains: map[string][]string{}, Elems: map[string]map[string]string{}}
	if len(strings.TrimSpace(string(out))) == 0 {
		return st, nil
	}
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return st, fmt.Errorf("parsing nft listing: %w", err)
	}
	for _, obj := range doc.Nftables {
		for kind, raw := range obj {
			if err := st.add(kind, raw); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// add records one object of the listing: our table, a chain, a rule's
// comment, a set's or map's elements; other kinds are not ours to read.
func (st *NFTState) add(kind string, raw json.RawMessage) error {
	var o struct {
		Name, Table, Chain, Comment string
		Elem                        []json.RawMessage
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return fmt.Errorf("parsing nft %s: %w", kind, err)
	}
	switch kind {
	case "table":
		st.Exists = o.Name == Table
	case "chain":
		st.Chains[o.Name] = []string{}
	case "rule":
		st.Chains[o.Chain] = append(st.Chains[o.Chain], o.Comment)
	case "set", "map":
		st.Elems[o.Name] = parseElems(o.Elem)
	}
	return nil
}

func parseElems(elems []json.RawMessage) map[string]string {
	out := map[string]string{}
	for _, e := range elems {
		var key string
		if json.Unmarshal(e, &key) == nil {
			out[key] = ""
			continue
		}
		var pair []json.RawMessage
		if json.Unmarshal(e, &pair) != nil || len(pair) != 2 || json.Unmarshal(pair[0], &key) != nil {
			continue
		}
		var v struct {
			Jump struct{ Target string } `json:"jump"`
		}
		_ = json.Unmarshal(pair[1], &v) // a verdict other than jump leaves the target empty
		out[key] = v.Jump.Target
	}
	return out
}

// nftChain is a chain of ours: its declaration and its rules.
type nftChain struct {
	name, decl string // decl is the base chain's hook spec, empty for a regular chain
	rules      []string
}

func (s Set) nftChains() (want []nftChain, unwanted string) {
	br := fmt.Sprintf("%q", s.Bridge)
	fwd := nftChain{name: NFTFwdChain(s.Network), rules: []string{
		fmt.Sprintf("iifname %s oifname %s accept", br, br),
		fmt.Sprintf("oifname %s ct state established,related accept", br),
		fmt.Sprintf("oifname %s ct status dnat accept", br),
		fmt.Sprintf("iifname %s oifname != @bridges accept", br),
	}}
	want = []nftChain{
		{name: "forward", decl: "type filter hook forward priority filter; policy accept;",
			rules: []string{"oifname vmap @nets", "iifname vmap @nets"}},
		{name: "postrouting", decl: "type nat hook postrouting priority srcnat; policy accept;",
			rules: []string{"meta nfproto ipv4 iifname vmap @masq4", "meta nfproto ipv6 iifname vmap @masq6"}},
		fwd,
	}
	masq := NFTMasqChain(s.Network, s.IPv6)
	if !s.Masquerade {
		return want, masq
	}
	ip := "ip"
	if s.IPv6 {
		ip = "ip6"
	}
	m := nftChain{name: masq, rules: []string{fmt.Sprintf("%s saddr != %s return", ip, nftSet(s.Subnets))}}
	except := append([]netip.Prefix{netip.MustParsePrefix(multicast(s.IPv6))}, s.NoMasq...)
	m.rules = append(m.rules,
		fmt.Sprintf("%s daddr %s return", ip, nftSet(except)),
		fmt.Sprintf("oifname %s return", br),
		"masquerade")
	return append(want, m), ""
}

// nftSet is prefixes as an nft anonymous set, or a single value.
func nftSet(ps []netip.Prefix) string {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	ps = slices.Compact(ps)
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	if len(s) == 1 {
		return s[0]
	}
	return "{ " + strings.Join(s, ", ") + " }"
}

// ruleComment ties a rule to its text, so a listing shows whether the
// chain holds exactly what we wrote. In a network's own chain (a regular
// chain, c.decl empty) it also names the network, "netsteer:<network>:":
// the owner stamp CheckNFTOwners reads, as the iptables backend's jump
// comments are. Base chains are shared, so theirs name no network.
func (c nftChain) ruleComment(network, rule string) string {
	if c.decl == "" {
		return Comment(network) + ":" + hash(rule)[:12]
	}
	return "nst:" + hash(rule)[:12]
}

// CheckNFTOwners refuses to touch a chain of the set's network (its
// forward chain and both masquerade chains, which ADD may flush or
// delete) whose rules carry another network's stamp: that is what two
// network names whose chain names collide look like, and rewriting the
// chain would replace the other network's rules (issue 9, class 5). The
// error, code 104, names both networks. Rules of builds before the stamp
// name no network and are ours to rewrite.
func CheckNFTOwners(s Set, st NFTState) error {
	for _, chain := range []string{NFTFwdChain(s.Network), NFTMasqChain(s.Network, false), NFTMasqChain(s.Network, true)} {
		for _, comment := range st.Chains[chain] {
			owner, ok := nftOwnerOf(comment)
			if ok && owner != s.Network {
				return cnierr.Collided("nftables chain", chain, "netsteer network "+owner, "netsteer network "+s.Network)
			}
		}
	}
	return nil
}

// nftOwnerOf is the network a rule comment of a network chain names.
func nftOwnerOf(comment string) (network string, ok bool) {
	rest, found := strings.CutPrefix(comment, Comment(""))
	if !found {
		return "", false
	}
	network, _, found = strings.Cut(rest, ":")
	return network, found && network != ""
}

// NFTPlan is what must change in our table for a set.
type NFTPlan struct {
	Missing []string
	lines   []string
}

// Empty reports whether the table already holds the set's rules.
func (p NFTPlan) Empty() bool { return len(p.Missing) == 0 }

// Script is the plan as `nft -f` input: one transaction.
func (p NFTPlan) Script() string { return strings.Join(p.lines, "\n") + "\n" }

// PlanNFT compares our table with the set's rules. peers are the other
// netsteer bridges on the node. Chains come before the elements that
// jump to them.
func PlanNFT(s Set, peers []string, st NFTState) NFTPlan {
	var p NFTPlan
	p.planTable(st)
	want, unwanted := s.nftChains()
	for _, c := range want {
		p.planChain(c, st, s.Network)
	}
	p.planBridges(bridges(s.Bridge, peers), st)
	p.element("nets", s.Bridge, NFTFwdChain(s.Network), st)
	masq := masqMap(s.IPv6)
	if unwanted == "" {
		p.element(masq, s.Bridge, NFTMasqChain(s.Network, s.IPv6), st)
		return p
	}
	p.dropMasq(masq, s.Bridge, unwanted, st)
	return p
}

// add appends one line of the script.
func (p *NFTPlan) add(format string, a ...any) {
	p.lines = append(p.lines, fmt.Sprintf(format, a...))
}

// planTable declares the table, the bridges set and the verdict maps;
// "add" of an existing one is a no-op, so they are always in the script.
func (p *NFTPlan) planTable(st NFTState) {
	if !st.Exists {
		p.Missing = append(p.Missing, "table inet "+Table)
	}
	p.add("add table inet %s", Table)
	p.add("add set inet %s bridges { type ifname; }", Table)
	for _, m := range []string{"nets", "masq4", "masq6"} {
		p.add("add map inet %s %s { type ifname : verdict; }", Table, m)
	}
}

// planChain declares chain c and rewrites its rules unless the table
// holds exactly them (compared by the comment that hashes each rule).
func (p *NFTPlan) planChain(c nftChain, st NFTState, network string) {
	if c.decl != "" {
		p.add("add chain inet %s %s { %s }", Table, c.name, c.decl)
	} else {
		p.add("add chain inet %s %s", Table, c.name)
	}
	var comments []string
	for _, r := range c.rules {
		comments = append(comments, c.ruleComment(network, r))
	}
	have, ok := st.Chains[c.name]
	if ok && slices.Equal(have, comments) {
		return
	}
	p.Missing = append(p.Missing, fmt.Sprintf("chain %s differs: want %q", c.name, c.rules))
	if ok {
		p.add("flush chain inet %s %s", Table, c.name)
	}
	for _, r := range c.rules {
		p.add("add rule inet %s %s %s comment %q", Table, c.name, r, c.ruleComment(network, r))
	}
}

// planBridges adds the bridges missing from the bridges set.
func (p *NFTPlan) planBridges(bridges []string, st NFTState) {
	for _, b := range bridges {
		if _, ok := st.Elems["bridges"][b]; !ok {
			p.Missing = append(p.Missing, fmt.Sprintf("element %q of set bridges", b))
			p.add("add element inet %s bridges { %q }", Table, b)
		}
	}
}

// dropMasq removes the masquerade the set no longer wants: bridge's
// element of map masq when it jumps to unwanted, and the chain unwanted.
func (p *NFTPlan) dropMasq(masq, bridge, unwanted string, st NFTState) {
	if target, ok := st.Elems[masq][bridge]; ok && target == unwanted {
		p.Missing = append(p.Missing, fmt.Sprintf("element %q of map %s should not exist", bridge, masq))
		p.add("delete element inet %s %s { %q }", Table, masq, bridge)
	}
	if _, ok := st.Chains[unwanted]; ok {
		p.Missing = append(p.Missing, fmt.Sprintf("chain %s should not exist", unwanted))
		p.add("flush chain inet %s %s", Table, unwanted)
		p.add("delete chain inet %s %s", Table, unwanted)
	}
}

// element makes map m send bridge to chain, replacing an element that
// jumps elsewhere (a previous chain of the same bridge).
func (p *NFTPlan) element(m, bridge, chain string, st NFTState) {
	target, ok := st.Elems[m][bridge]
	if ok && target == chain {
		return
	}
	p.Missing = append(p.Missing, fmt.Sprintf("element %q : jump %s of map %s", bridge, chain, m))
	if ok {
		p.add("delete element inet %s %s { %q }", Table, m, bridge)
	}
	p.add("add element inet %s %s { %q : jump %s }", Table, m, bridge, chain)
}

// Missing lists what of a network's nftables rules for one family is not
// in st: the base chain's rules, its bridge's entry in the verdict map
// that leads to the network's chain, and that chain's rules; with masq
// the same for postrouting and the family's masquerade map. It reads only what a listing shows, for tools
// that inspect a node without the network's full config.
func (st NFTState) Missing(network, bridge string, ipv6, masq bool) []string {
	want := [][3]string{{"forward", "nets", NFTFwdChain(network)}}
	if masq {
		want = append(want, [3]string{"postrouting", masqMap(ipv6), NFTMasqChain(network, ipv6)})
	}
	var out []string
	for _, w3 := range want {
		base, w := w3[0], w3[1:]
		switch {
		case len(st.Chains[base]) == 0:
			out = append(out, fmt.Sprintf("base chain %s is empty or missing", base))
		case st.Elems[w[0]][bridge] != w[1]:
			out = append(out, fmt.Sprintf("map %s has no entry %s -> %s", w[0], bridge, w[1]))
		case len(st.Chains[w[1]]) == 0:
			out = append(out, fmt.Sprintf("chain %s is empty or missing", w[1]))
		}
	}
	return out
}
