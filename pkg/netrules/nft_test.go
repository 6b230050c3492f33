package netrules

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// nftApplied is the state our table would be in after the set's plan ran
// on an empty node, built the way `nft -j list table` reports it.
func nftApplied(t *testing.T, s Set, peers []string) NFTState {
	t.Helper()
	st := NFTState{Exists: true, Chains: map[string][]string{}, Elems: map[string]map[string]string{
		"bridges": {}, "nets": {}, "masq4": {}, "masq6": {}}}
	for _, line := range strings.Split(PlanNFT(s, peers, NFTState{}).Script(), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == "add" && f[1] == "chain":
			st.Chains[f[4]] = []string{}
		case len(f) >= 4 && f[0] == "add" && f[1] == "rule":
			c := f[len(f)-1]
			st.Chains[f[4]] = append(st.Chains[f[4]], strings.Trim(c, `"`))
		case len(f) >= 6 && f[0] == "add" && f[1] == "element":
			key := strings.Trim(f[6], `"`)
			target := ""
			if len(f) >= 10 {
				target = f[9]
			}
			st.Elems[f[4]][key] = target
		}
	}
	return st
}

func TestNFTPlanOnAnEmptyNodeIsOneScriptThenNothing(t *testing.T) {
	s := testSet()
	p := PlanNFT(s, []string{"nstbr9"}, NFTState{})
	script := p.Script()
	for _, want := range []string{
		"add table inet netsteer",
		"add chain inet netsteer forward { type filter hook forward priority filter; policy accept; }",
		`add rule inet netsteer ` + NFTFwdChain("n") + ` oifname "nstbr0" ct status dnat accept`,
		`add rule inet netsteer ` + NFTFwdChain("n") + ` iifname "nstbr0" oifname != @bridges accept`,
		`add rule inet netsteer ` + NFTMasqChain("n", false) + ` ip saddr != 10.1.0.0/24 return`,
		`ip daddr { 10.96.0.0/12, 224.0.0.0/4 } return`,
		`add element inet netsteer nets { "nstbr0" : jump ` + NFTFwdChain("n") + ` }`,
		`add element inet netsteer bridges { "nstbr9" }`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if again := PlanNFT(s, []string{"nstbr9"}, nftApplied(t, s, []string{"nstbr9"})); !again.Empty() {
		t.Errorf("after applying, the plan still wants %q", again.Missing)
	}
}

func TestNFTPlanConvergesToTheConfig(t *testing.T) {
	old := testSet()
	st := nftApplied(t, old, nil)
	off := old
	off.Masquerade = false
	script := PlanNFT(off, nil, st).Script()
	for _, want := range []string{
		`delete element inet netsteer masq4 { "nstbr0" }`,
		"delete chain inet netsteer " + NFTMasqChain("n", false),
	} {
		if !strings.Contains(script, want) {
			t.Errorf("ipMasq off: script lacks %q:\n%s", want, script)
		}
	}
	if strings.Index(script, "delete chain") < strings.Index(script, "delete element") {
		t.Errorf("chain deleted before the element that jumps to it:\n%s", script)
	}
	renumbered := old
	renumbered.Subnets = []netip.Prefix{netip.MustParsePrefix("10.2.0.0/24")}
	script = PlanNFT(renumbered, nil, st).Script()
	if !strings.Contains(script, "flush chain inet netsteer "+NFTMasqChain("n", false)) || !strings.Contains(script, "ip saddr != 10.2.0.0/24 return") {
		t.Errorf("renumbering does not rewrite the masquerade chain:\n%s", script)
	}
}

func TestNFTPlanNamesAFlushedChain(t *testing.T) {
	s := testSet()
	st := nftApplied(t, s, nil)
	st.Chains["forward"] = []string{}
	p := PlanNFT(s, nil, st)
	if p.Empty() || !strings.Contains(p.Missing[0], "forward") {
		t.Fatalf("plan after flushing forward = %q", p.Missing)
	}
	if !strings.Contains(p.Script(), "flush chain inet netsteer forward\nadd rule inet netsteer forward oifname vmap @nets") {
		t.Errorf("script does not refill forward:\n%s", p.Script())
	}
}

func TestParseNFTJSON(t *testing.T) {
	doc := map[string]any{"nftables": []any{
		map[string]any{"metainfo": map[string]any{"version": "1.0.6"}},
		map[string]any{"table": map[string]any{"family": "inet", "name": "netsteer"}},
		map[string]any{"set": map[string]any{"name": "bridges", "elem": []any{"br0"}}},
		map[string]any{"map": map[string]any{"name": "nets", "elem": []any{[]any{"br0", map[string]any{"jump": map[string]any{"target": "fwd-x"}}}}}},
		map[string]any{"chain": map[string]any{"name": "fwd-x"}},
		map[string]any{"chain": map[string]any{"name": "empty"}},
		map[string]any{"rule": map[string]any{"chain": "fwd-x", "comment": "nst:1"}},
	}}
	b, _ := json.Marshal(doc)
	st, err := ParseNFTJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Exists || st.Elems["bridges"]["br0"] != "" || st.Elems["nets"]["br0"] != "fwd-x" ||
		len(st.Chains["fwd-x"]) != 1 || st.Chains["empty"] == nil {
		t.Errorf("parsed %+v", st)
	}
	if st, err := ParseNFTJSON(nil); err != nil || st.Exists {
		t.Errorf("empty listing = %+v, %v", st, err)
	}
}

func TestNFTStateMissingNamesTheNetworksPart(t *testing.T) {
	s := Set{Network: "n1", Bridge: "br0", Masquerade: true,
		Subnets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}
	st := nftApplied(t, s, nil)
	if got := st.Missing("n1", "br0", false, true); len(got) != 0 {
		t.Errorf("after applying: missing %q, want nothing", got)
	}
	if got := st.Missing("n1", "br0", true, true); len(got) != 1 || !strings.Contains(got[0], "masq6") {
		t.Errorf("IPv6 masquerade never applied: missing %q, want the masq6 entry", got)
	}
	delete(st.Elems["nets"], "br0")
	if got := st.Missing("n1", "br0", false, false); len(got) != 1 || !strings.Contains(got[0], "nets") {
		t.Errorf("after removing the map entry: missing %q, want the nets entry", got)
	}
	if got := (NFTState{}).Missing("n1", "br0", false, false); len(got) != 1 {
		t.Errorf("absent table: missing %q, want one entry", got)
	}
}
