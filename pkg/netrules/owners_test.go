package netrules

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

// TestCheckOwnersRefusesAnotherNetworksChain forces two network names to
// collide: the node's listing holds network "theirs"'s jumps into the
// chains "mine" derives to, as a colliding name would make them. The
// check refuses with code 104 naming both networks; the network's own
// jumps, or none, pass (issue 9, class 5).
func TestCheckOwnersRefusesAnotherNetworksChain(t *testing.T) {
	s := Set{Network: "mine", Bridge: "nstbr0", Masquerade: true}
	jump := func(builtin, network, chain string) string {
		return "-A " + builtin + " -s 10.1.0.0/24 -m comment --comment " + Comment(network) + " -j " + chain
	}
	for _, tc := range []struct {
		name, table, rule string
		collides          bool
	}{
		{"no jumps yet", "filter", "", false},
		{"our own forward jump", "filter", jump("FORWARD", "mine", FwdChain("mine")), false},
		{"our own masquerade jump", "nat", jump("POSTROUTING", "mine", MasqChain("mine")), false},
		{"another network's jump to another chain", "filter", jump("FORWARD", "theirs", FwdChain("theirs")), false},
		{"an operator's rule naming our chain", "filter", "-A FORWARD -j " + FwdChain("mine"), false},
		{"another network's forward jump to our chain", "filter", jump("FORWARD", "theirs", FwdChain("mine")), true},
		{"another network's masquerade jump to our chain", "nat", jump("POSTROUTING", "theirs", MasqChain("mine")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listings := map[string]Listing{"nat": ParseListing(""), "filter": ParseListing("")}
			listings[tc.table] = ParseListing(tc.rule)
			err := CheckOwners(s, listings)
			if !tc.collides {
				if err != nil {
					t.Fatalf("CheckOwners = %v, want nil", err)
				}
				return
			}
			var te *types.Error
			if !errors.As(err, &te) || te.Code != 104 || !strings.Contains(err.Error(), `"netsteer network theirs"`) || !strings.Contains(err.Error(), `"netsteer network mine"`) {
				t.Errorf("CheckOwners = %v, want code 104 naming both networks", err)
			}
		})
	}
}

func TestChainNamesFillTheBudget(t *testing.T) {
	for _, c := range []string{MasqChain("n"), FwdChain("n")} {
		if len(c) != 28 {
			t.Errorf("chain %q is %d bytes, want 28 (the xtables limit)", c, len(c))
		}
	}
}

// A node upgraded from the 12-digit chain names: the network's jumps to
// its old chains are deleted, then the old chains, and the new ones made.
func TestPlanIPTablesReplacesChainsOfTheOlderNaming(t *testing.T) {
	s := Set{Network: "mine", Bridge: "nstbr0", Masquerade: true, Subnets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}
	oldFwd, oldMasq := "NSTR-FWD-"+hash("mine")[:12], "NSTR-MASQ-"+hash("mine")[:12]
	listings := map[string]Listing{
		"filter": ParseListing("-N " + oldFwd + "\n-A " + oldFwd + " -i nstbr0 -o nstbr0 -j ACCEPT\n" +
			"-A FORWARD -m comment --comment netsteer:mine -j " + oldFwd + "\n" +
			"-A FORWARD -m comment --comment netsteer:theirs -j NSTR-FWD-0123456789ab\n"),
		"nat": ParseListing("-N " + oldMasq + "\n-A " + oldMasq + " -j MASQUERADE\n" +
			"-A POSTROUTING -s 10.1.0.0/24 -m comment --comment netsteer:mine -j " + oldMasq + "\n"),
	}
	in := PlanIPTables(s, nil, listings).RestoreInput()
	for _, want := range []string{
		"-D FORWARD -m comment --comment netsteer:mine -j " + oldFwd + "\n",
		"-F " + oldFwd + "\n-X " + oldFwd + "\n",
		"-D POSTROUTING -s 10.1.0.0/24 -m comment --comment netsteer:mine -j " + oldMasq + "\n",
		"-F " + oldMasq + "\n-X " + oldMasq + "\n",
		"-A FORWARD -m comment --comment netsteer:mine -j " + FwdChain("mine") + "\n",
	} {
		if !strings.Contains(in, want) {
			t.Errorf("restore input lacks %q:\n%s", want, in)
		}
	}
	if strings.Contains(in, "NSTR-FWD-0123456789ab") {
		t.Errorf("the plan touches another network's chain:\n%s", in)
	}
	if strings.Index(in, "-X "+oldFwd) < strings.Index(in, "-D FORWARD -m comment --comment netsteer:mine -j "+oldFwd) {
		t.Errorf("the old chain is deleted before the jump to it:\n%s", in)
	}
	if PlanIPTables(s, nil, listings).Empty() {
		t.Error("CHECK would pass with the old chains in place")
	}
}

// TestCheckNFTOwnersRefusesAnotherNetworksChain: the rules of a network's
// own nftables chains carry its name. Two network names whose chains
// collide are forced through the pure check: our chains holding the
// rules another network's plan wrote are refused with code 104 naming
// both; our own, and those of builds before the stamp, are ours.
func TestCheckNFTOwnersRefusesAnotherNetworksChain(t *testing.T) {
	mine := Set{Network: "mine", Bridge: "nstbr0", Subnets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}, Masquerade: true}
	theirs := mine
	theirs.Network = "theirs"
	applied := func(s Set) NFTState { return nftApplied(t, s, nil) }
	// their rules under our chain names: what a collision looks like.
	collided := func(chain func(string) string) NFTState {
		st := applied(theirs)
		st.Chains[chain("mine")] = st.Chains[chain("theirs")]
		return st
	}
	for _, tc := range []struct {
		name     string
		st       NFTState
		collides bool
	}{
		{"empty node", NFTState{}, false},
		{"our own chains", applied(mine), false},
		{"another network's chains under their names", applied(theirs), false},
		{"rules before the stamp", NFTState{Chains: map[string][]string{NFTFwdChain("mine"): {"nst:0123456789ab"}}}, false},
		{"another network's rules in our forward chain", collided(NFTFwdChain), true},
		{"another network's rules in our masquerade chain", collided(func(n string) string { return NFTMasqChain(n, false) }), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckNFTOwners(mine, tc.st)
			if !tc.collides {
				if err != nil {
					t.Fatalf("CheckNFTOwners = %v, want nil", err)
				}
				return
			}
			var te *types.Error
			if !errors.As(err, &te) || te.Code != 104 || !strings.Contains(err.Error(), `"netsteer network theirs"`) || !strings.Contains(err.Error(), `"netsteer network mine"`) {
				t.Errorf("CheckNFTOwners = %v, want code 104 naming both networks", err)
			}
		})
	}
	if script := PlanNFT(mine, nil, NFTState{}).Script(); !strings.Contains(script, `comment "netsteer:mine:`) {
		t.Errorf("the plan does not stamp the network's rules:\n%s", script)
	}
}
