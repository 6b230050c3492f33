package netrules

import (
	"fmt"
	"slices"
	"strings"
)

// The iptables rendering, per family, in iptables -S syntax:
//
//	nat    POSTROUTING -s <subnet> -m comment --comment netsteer:<net> -j NSTR-MASQ-<h>   (ipMasq, one per subnet)
//	nat    NSTR-MASQ-<h>: multicast, noMasqueradeCIDRs and the bridge itself RETURN, the rest MASQUERADE
//	filter FORWARD (after every rule not ours) -m comment --comment netsteer:<net> -j NSTR-FWD-<h>
//	filter NSTR-FWD-<h>: within the bridge, replies to it and DNAT'ed connections to it ACCEPT;
//	       from the bridge -j NSTR-OUT
//	filter NSTR-OUT (shared): to any netsteer bridge RETURN, the rest (out of the node) ACCEPT

// Listing is what a node has in some chains of one table, parsed from
// iptables -S or iptables-save output.
type Listing struct {
	Exists map[string]bool
	Rules  map[string][]string // "-A CHAIN ..." lines, in order
}

// ParseListing reads iptables -S or iptables-save output; several outputs
// may be concatenated.
func ParseListing(text string) Listing {
	l := Listing{Exists: map[string]bool{}, Rules: map[string][]string{}}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		for i := range f {
			// iptables-save quotes comments, -S does not; ours need no quotes.
			f[i] = strings.Trim(f[i], `"`)
		}
		switch {
		case len(f) >= 2 && (f[0] == "-N" || f[0] == "-P"):
			l.Exists[f[1]] = true
		case len(f) >= 1 && strings.HasPrefix(f[0], ":"):
			l.Exists[f[0][1:]] = true
		case len(f) >= 2 && f[0] == "-A":
			l.Exists[f[1]] = true
			l.Rules[f[1]] = append(l.Rules[f[1]], strings.Join(f, " "))
		}
	}
	return l
}

// table is what one table should hold for a network.
type table struct {
	name string
	// own chains with their rules; a nil entry is a chain that must not exist.
	own map[string][]string
	// shared chains: their rules are merged with what is there, never removed.
	shared map[string][]string
	// jumps into a built-in chain, all pointing at target.
	builtin, target string
	network         string // whose Comment marks the jumps
	jumps           []string
	last            bool // the jumps come after every rule that is not ours
}

func (s Set) tables(peers []string) []table {
	fwd := FwdChain(s.Network)
	comment := "-m comment --comment " + Comment(s.Network)
	filter := table{name: "filter", own: map[string][]string{fwd: {
		fmt.Sprintf("-A %s -i %s -o %s -j ACCEPT", fwd, s.Bridge, s.Bridge),
		fmt.Sprintf("-A %s -o %s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", fwd, s.Bridge),
		fmt.Sprintf("-A %s -o %s -m conntrack --ctstate DNAT -j ACCEPT", fwd, s.Bridge),
		fmt.Sprintf("-A %s -i %s -j %s", fwd, s.Bridge, OutChain),
	}}, shared: map[string][]string{OutChain: outRules(bridges(s.Bridge, peers))},
		builtin: "FORWARD", target: fwd, last: true, network: s.Network,
		jumps: []string{fmt.Sprintf("-A FORWARD %s -j %s", comment, fwd)}}

	masq := MasqChain(s.Network)
	nat := table{name: "nat", own: map[string][]string{masq: nil}, builtin: "POSTROUTING", target: masq, network: s.Network}
	if s.Masquerade {
		lines := []string{fmt.Sprintf("-A %s -d %s -j RETURN", masq, multicast(s.IPv6))}
		for _, p := range s.NoMasq {
			lines = append(lines, fmt.Sprintf("-A %s -d %s -j RETURN", masq, p))
		}
		lines = append(lines, fmt.Sprintf("-A %s -o %s -j RETURN", masq, s.Bridge), fmt.Sprintf("-A %s -j MASQUERADE", masq))
		nat.own[masq] = lines
		for _, p := range s.Subnets {
			nat.jumps = append(nat.jumps, fmt.Sprintf("-A POSTROUTING -s %s %s -j %s", p, comment, masq))
		}
	}
	return []table{nat, filter}
}

func outRules(bridges []string) []string {
	var out []string
	for _, b := range bridges {
		out = append(out, fmt.Sprintf("-A %s -o %s -j RETURN", OutChain, b))
	}
	return append(out, fmt.Sprintf("-A %s -j ACCEPT", OutChain))
}

// Plan is what must change, per table, to make a node's rules the set's.
type Plan struct {
	// Missing names each difference, for CHECK; empty when the rules are in place.
	Missing []string
	input   map[string][]string // restore lines by table
}

// Empty reports whether the node already has the set's rules.
func (p Plan) Empty() bool { return len(p.Missing) == 0 }

// Commits is how many transactions RestoreInput makes: one per table
// (iptables-nft commits each table's section on its own).
func (p Plan) Commits() uint32 {
	var n uint32
	for _, lines := range p.input {
		if len(lines) > 0 {
			n++
		}
	}
	return n
}

// RestoreInput is the plan as iptables-restore --noflush input: one
// commit per table, so each table changes atomically.
func (p Plan) RestoreInput() string {
	var b strings.Builder
	for _, t := range []string{"nat", "filter"} {
		if lines := p.input[t]; len(lines) > 0 {
			fmt.Fprintf(&b, "*%s\n%s\nCOMMIT\n", t, strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

// PlanIPTables compares a node's chains with the set's rules. peers are
// the other netsteer bridges on the node; listings holds each table's
// listing ("nat", "filter") of the built-in chain and our chains; a
// table without a listing is left alone.
func PlanIPTables(s Set, peers []string, listings map[string]Listing) Plan {
	p := Plan{input: map[string][]string{}}
	for _, t := range s.tables(peers) {
		if l, ok := listings[t.name]; ok {
			p.input[t.name] = p.planTable(t, l)
		}
	}
	return p
}

// planTable is the iptables-restore input that brings table t from its
// listing l to the set's rules; what differs goes to p.Missing.
func (p *Plan) planTable(t table, l Listing) []string {
	var e chainEdits
	p.planOwn(t, l, &e)
	for _, chain := range sortedKeys(t.shared) {
		want := mergeShared(l.Rules[chain], t.shared[chain])
		if !l.Exists[chain] || !slices.Equal(l.Rules[chain], want) {
			p.Missing = append(p.Missing, fmt.Sprintf("%s chain %s differs: want %q", t.name, chain, want))
			e.rewrite(chain, want)
		}
	}
	dels, adds, why := planJumps(t, l.Rules[t.builtin])
	p.Missing = append(p.Missing, why...)
	for _, c := range renamedChains(t, l) {
		p.Missing = append(p.Missing, fmt.Sprintf("%s chain %s of an older naming should not exist", t.name, c))
		e.drop(c)
	}
	return slices.Concat(e.decl, e.rules, dels, adds, e.drops)
}

// planOwn rewrites the chains of the network's own that differ from the
// set and drops those the set no longer wants.
func (p *Plan) planOwn(t table, l Listing, e *chainEdits) {
	for _, chain := range sortedKeys(t.own) {
		want := t.own[chain]
		switch {
		case want == nil && l.Exists[chain]:
			p.Missing = append(p.Missing, fmt.Sprintf("%s chain %s should not exist", t.name, chain))
			e.drop(chain)
		case want != nil && (!l.Exists[chain] || !slices.Equal(l.Rules[chain], want)):
			p.Missing = append(p.Missing, fmt.Sprintf("%s chain %s differs: want %q", t.name, chain, want))
			e.rewrite(chain, want)
		}
	}
}

// chainEdits are the iptables-restore lines for whole chains, in the order
// they must run: declarations, then rules, then (after the jumps change)
// the chains that go.
type chainEdits struct{ decl, rules, drops []string }

// rewrite declares chain, which flushes it, and fills it with rules.
func (e *chainEdits) rewrite(chain string, rules []string) {
	e.decl = append(e.decl, ":"+chain+" - [0:0]")
	e.rules = append(e.rules, rules...)
}

// drop flushes and deletes chain.
func (e *chainEdits) drop(chain string) { e.drops = append(e.drops, "-F "+chain, "-X "+chain) }

// mergeShared is the shared chain's rules: those there, plus the wanted
// RETURNs, with the final ACCEPT last.
func mergeShared(have, want []string) []string {
	final := want[len(want)-1]
	var out []string
	for _, r := range slices.Concat(have, want[:len(want)-1]) {
		if r != final && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return append(out, final)
}

// renamedChains are the chains the network's jumps point at under an
// older naming (fewer hash digits, before issue 9's class 5): the jumps
// carry the network's comment but another NSTR- target. planJumps deletes
// those jumps; the chains go after them.
func renamedChains(t table, l Listing) []string {
	var out []string
	for _, r := range l.Rules[t.builtin] {
		target, ok := staleTarget(t, r)
		if ok && l.Exists[target] && !slices.Contains(out, target) {
			out = append(out, target)
		}
	}
	return out
}

// staleTarget reports the NSTR- chain rule r jumps to when r is the
// network's jump (by its comment) to a chain other than t.target.
func staleTarget(t table, r string) (string, bool) {
	_, target, ok := strings.Cut(r, " -j ")
	if !ok || !strings.HasPrefix(target, "NSTR-") || target == t.target || target == OutChain {
		return "", false
	}
	owner, ok := commentOf(r)
	return target, ok && owner == t.network
}

// planJumps deletes jumps to the network's chain that the set does not
// ask for (an old subnet, ipMasq switched off) or that sit before a rule
// of the operator's, and appends the ones missing.
func planJumps(t table, have []string) (dels, adds, why []string) {
	last := lastForeign(have)
	kept := map[string]bool{}
	for i, r := range have {
		problem, ours := t.jumpProblem(r, t.last && i < last, kept)
		switch {
		case !ours:
		case problem == "":
			kept[r] = true
		default:
			why = append(why, problem)
			dels = append(dels, "-D"+strings.TrimPrefix(r, "-A"))
		}
	}
	for _, j := range t.jumps {
		if !kept[j] {
			if !slices.ContainsFunc(why, func(w string) bool { return strings.Contains(w, j) }) {
				why = append(why, fmt.Sprintf("%s rule %q missing", t.name, j))
			}
			adds = append(adds, j)
		}
	}
	return dels, adds, why
}

// lastForeign is the index of the last rule of have that jumps to no
// chain of ours (an operator's rule), or -1.
func lastForeign(have []string) int {
	last := -1
	for i, r := range have {
		if !strings.Contains(r, " -j NSTR-") {
			last = i
		}
	}
	return last
}

// jumpProblem reports whether rule r is a jump of ours (to the network's
// chain, or to a chain of an older naming of it) and, if so, why it must
// go, or "" to keep it. kept holds the jumps kept so far, so a duplicate
// goes; early says r sits before an operator's rule where it must not.
func (t table) jumpProblem(r string, early bool, kept map[string]bool) (problem string, ours bool) {
	if _, stale := staleTarget(t, r); stale {
		return fmt.Sprintf("%s rule %q jumps to a chain of an older naming", t.name, r), true
	}
	switch {
	case !strings.HasSuffix(r, "-j "+t.target):
		return "", false
	case !slices.Contains(t.jumps, r):
		return fmt.Sprintf("%s rule %q is not in the config", t.name, r), true
	case kept[r]:
		return fmt.Sprintf("%s rule %q is duplicated", t.name, r), true
	case early:
		return fmt.Sprintf("%s rule %q comes before the operator's rules", t.name, r), true
	}
	return "", true
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// IPTablesRules is the set's rules as "<table> <rule>" lines: its own
// chains' and its jumps, without the shared chain.
func IPTablesRules(s Set) []string {
	var out []string
	for _, t := range s.tables(nil) {
		for _, c := range sortedKeys(t.own) {
			for _, r := range t.own[c] {
				out = append(out, t.name+" "+r)
			}
		}
		for _, j := range t.jumps {
			out = append(out, t.name+" "+j)
		}
	}
	return out
}
