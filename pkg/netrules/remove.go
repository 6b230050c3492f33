package netrules

import (
	"fmt"
	"slices"
	"strings"
)

// Removing a network from a backend it no longer uses (the auto backend
// flipped, or ipMasqBackend changed): everything of the network's own, in
// either rendering, and nothing shared. What stays is what other networks
// rely on: iptables' NSTR-OUT and nftables' set of netsteer bridges,
// where the network's bridge still counts as one.

// PlanIPTablesRemoval removes the network's rules from the tables listed
// ("nat", "filter"): the jumps in the built-in chains that carry its
// comment, then its chains, of the current naming or an older one.
func PlanIPTablesRemoval(network string, listings map[string]Listing) Plan {
	p := Plan{input: map[string][]string{}}
	for _, t := range (Set{Network: network}).tables(nil) {
		if l, ok := listings[t.name]; ok {
			p.removeFromTable(t, l, network)
		}
	}
	return p
}

// removeFromTable plans the removal of the network's jumps from t's
// built-in chain, then of the chains they reach and of its chain of the
// current naming.
func (p *Plan) removeFromTable(t table, l Listing, network string) {
	var dels, drops []string
	chains := []string{t.target}
	for _, r := range l.Rules[t.builtin] {
		target, ok := networkJump(r, network)
		if !ok {
			continue
		}
		p.Missing = append(p.Missing, fmt.Sprintf("%s rule %q should not exist", t.name, r))
		dels = append(dels, "-D"+strings.TrimPrefix(r, "-A"))
		if !slices.Contains(chains, target) {
			chains = append(chains, target)
		}
	}
	for _, c := range chains {
		if l.Exists[c] {
			p.Missing = append(p.Missing, fmt.Sprintf("%s chain %s should not exist", t.name, c))
			drops = append(drops, "-F "+c, "-X "+c)
		}
	}
	if len(dels)+len(drops) > 0 {
		p.input[t.name] = slices.Concat(dels, drops)
	}
}

// networkJump is the chain rule r jumps to when r is one of network's
// jumps: its comment names the network and its target is a chain of ours
// other than the shared NSTR-OUT.
func networkJump(r, network string) (string, bool) {
	_, target, jump := strings.Cut(r, " -j ")
	owner, ours := commentOf(r)
	return target, jump && ours && owner == network && strings.HasPrefix(target, "NSTR-") && target != OutChain
}

// PlanNFTRemoval removes the network from our table: every map element
// that jumps to one of its chains, then the chains.
func PlanNFTRemoval(network string, st NFTState) NFTPlan {
	var p NFTPlan
	if !st.Exists {
		return p
	}
	chains := []string{NFTFwdChain(network), NFTMasqChain(network, false), NFTMasqChain(network, true)}
	for _, m := range []string{"nets", "masq4", "masq6"} {
		keys := make([]string, 0, len(st.Elems[m]))
		for k := range st.Elems[m] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if slices.Contains(chains, st.Elems[m][k]) {
				p.Missing = append(p.Missing, fmt.Sprintf("element %q of map %s should not exist", k, m))
				p.lines = append(p.lines, fmt.Sprintf("delete element inet %s %s { %q }", Table, m, k))
			}
		}
	}
	for _, c := range chains {
		if _, ok := st.Chains[c]; ok {
			p.Missing = append(p.Missing, fmt.Sprintf("chain %s should not exist", c))
			p.lines = append(p.lines, fmt.Sprintf("flush chain inet %s %s", Table, c), fmt.Sprintf("delete chain inet %s %s", Table, c))
		}
	}
	return p
}
