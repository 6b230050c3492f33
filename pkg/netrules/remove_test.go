package netrules

import (
	"net/netip"
	"strings"
	"testing"
)

// otherSet is a second network on its own bridge.
func otherSet() Set {
	return Set{Network: "m", Bridge: "nstbr1", Masquerade: true,
		Subnets: []netip.Prefix{netip.MustParsePrefix("10.2.0.0/24")}}
}

func TestIPTablesRemovalTakesTheNetworkAndNothingElse(t *testing.T) {
	n, m := applied(t, testSet(), nil), applied(t, otherSet(), nil)
	operator := "-A FORWARD -d 192.0.2.1/32 -j REJECT"
	nodeText := map[string]string{}
	for _, table := range []string{"nat", "filter"} {
		var text []string
		for _, l := range []Listing{n[table], m[table]} {
			for c := range l.Exists {
				text = append(text, ":"+c+" - [0:0]")
			}
			for _, rules := range l.Rules {
				text = append(text, rules...)
			}
		}
		if table == "filter" {
			text = append(text, operator)
		}
		nodeText[table] = strings.Join(text, "\n")
	}
	node := map[string]Listing{"nat": ParseListing(nodeText["nat"]), "filter": ParseListing(nodeText["filter"])}
	p := PlanIPTablesRemoval("n", node)
	in := p.RestoreInput()
	for _, want := range []string{
		"-D POSTROUTING -s 10.1.0.0/24 -m comment --comment netsteer:n -j " + MasqChain("n"),
		"-D FORWARD -m comment --comment netsteer:n -j " + FwdChain("n"),
		"-F " + MasqChain("n"), "-X " + MasqChain("n"), "-F " + FwdChain("n"), "-X " + FwdChain("n"),
	} {
		if !strings.Contains(in, want+"\n") {
			t.Errorf("removal lacks %q:\n%s", want, in)
		}
	}
	for _, never := range []string{"netsteer:m", MasqChain("m"), FwdChain("m"), OutChain, "REJECT"} {
		if strings.Contains(in, never) {
			t.Errorf("removal of n touches %q:\n%s", never, in)
		}
	}
	// Deletions come before the chains they point at are dropped.
	if strings.Index(in, "-D FORWARD") > strings.Index(in, "-X "+FwdChain("n")) {
		t.Errorf("a chain is dropped before the jump to it:\n%s", in)
	}
	if got := PlanIPTablesRemoval("n", map[string]Listing{"nat": m["nat"], "filter": m["filter"]}); !got.Empty() {
		t.Errorf("removal from a node without the network wants %q", got.Missing)
	}
}

func TestIPTablesRemovalTakesChainsOfAnOlderNaming(t *testing.T) {
	old := "NSTR-FWD-0123456789ab"
	node := map[string]Listing{"filter": ParseListing(":" + old + " - [0:0]\n-A FORWARD -m comment --comment netsteer:n -j " + old + "\n-A " + old + " -j ACCEPT\n")}
	in := PlanIPTablesRemoval("n", node).RestoreInput()
	for _, want := range []string{"-D FORWARD -m comment --comment netsteer:n -j " + old, "-X " + old} {
		if !strings.Contains(in, want) {
			t.Errorf("removal lacks %q:\n%s", want, in)
		}
	}
}

// nftAfter applies a removal plan's script to st.
func nftAfter(st NFTState, p NFTPlan) NFTState {
	for _, line := range p.lines {
		f := strings.Fields(line)
		switch {
		case f[0] == "delete" && f[1] == "element":
			delete(st.Elems[f[4]], strings.Trim(f[6], `"`))
		case f[0] == "delete" && f[1] == "chain":
			delete(st.Chains, f[4])
		}
	}
	return st
}

func TestNFTRemovalTakesTheNetworkAndNothingElse(t *testing.T) {
	v6 := testSet()
	v6.IPv6, v6.Subnets = true, []netip.Prefix{netip.MustParsePrefix("fd00:1::/64")}
	st := nftApplied(t, testSet(), []string{"nstbr1"})
	for _, s := range []Set{v6, otherSet()} {
		for k, v := range nftApplied(t, s, []string{"nstbr0"}).Chains {
			st.Chains[k] = v
		}
		for m, elems := range nftApplied(t, s, nil).Elems {
			for k, v := range elems {
				st.Elems[m][k] = v
			}
		}
	}
	p := PlanNFTRemoval("n", st)
	after := nftAfter(st, p)
	for _, c := range []string{NFTFwdChain("n"), NFTMasqChain("n", false), NFTMasqChain("n", true)} {
		if _, ok := after.Chains[c]; ok {
			t.Errorf("chain %s left after removal:\n%s", c, p.Script())
		}
	}
	for _, m := range []string{"nets", "masq4", "masq6"} {
		if _, ok := after.Elems[m]["nstbr0"]; ok {
			t.Errorf("element nstbr0 of %s left after removal", m)
		}
	}
	if !PlanNFT(otherSet(), []string{"nstbr0"}, after).Empty() {
		t.Errorf("removal of n broke m: %q", PlanNFT(otherSet(), []string{"nstbr0"}, after).Missing)
	}
	if _, ok := after.Elems["bridges"]["nstbr0"]; !ok {
		t.Error("removal took nstbr0 out of the set of netsteer bridges, which other networks rely on")
	}
	if again := PlanNFTRemoval("n", after); !again.Empty() {
		t.Errorf("a second removal wants %q", again.Missing)
	}
	if PlanNFTRemoval("n", NFTState{}).Script() != "\n" {
		t.Error("removal from a node without our table does something")
	}
}
