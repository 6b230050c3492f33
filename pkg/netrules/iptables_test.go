package netrules

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func testSet() Set {
	return Set{Network: "n", Bridge: "nstbr0", Masquerade: true,
		Subnets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")},
		NoMasq:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}}
}

// applied is what the node lists after a plan's restore input ran on an
// empty node, as iptables-save would print it.
func applied(t *testing.T, s Set, peers []string) map[string]Listing {
	t.Helper()
	empty := map[string]Listing{"nat": ParseListing(""), "filter": ParseListing("")}
	p := PlanIPTables(s, peers, empty)
	out := map[string]Listing{}
	table := ""
	var text string
	for _, line := range strings.Split(p.RestoreInput(), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table, text = line[1:], ""
		case line == "COMMIT":
			out[table] = ParseListing(text)
		default:
			text += line + "\n"
		}
	}
	return out
}

func TestPlanOnAnEmptyNodeWritesEverythingThenNothing(t *testing.T) {
	s := testSet()
	empty := map[string]Listing{"nat": ParseListing(""), "filter": ParseListing("")}
	p := PlanIPTables(s, nil, empty)
	in := p.RestoreInput()
	for _, want := range []string{
		"-A POSTROUTING -s 10.1.0.0/24 -m comment --comment netsteer:n -j " + MasqChain("n"),
		"-A " + MasqChain("n") + " -d 10.96.0.0/12 -j RETURN",
		"-A FORWARD -m comment --comment netsteer:n -j " + FwdChain("n"),
		"-A " + FwdChain("n") + " -o nstbr0 -m conntrack --ctstate DNAT -j ACCEPT",
		"-A NSTR-OUT -o nstbr0 -j RETURN\n-A NSTR-OUT -j ACCEPT",
	} {
		if !strings.Contains(in, want) {
			t.Errorf("restore input lacks %q:\n%s", want, in)
		}
	}
	if again := PlanIPTables(s, nil, applied(t, s, nil)); !again.Empty() {
		t.Errorf("after applying, the plan still wants %q", again.Missing)
	}
}

func TestPlanAcceptsNoTrafficToAnotherNetsteerBridge(t *testing.T) {
	l := applied(t, testSet(), []string{"nstbr9"})
	if got := l["filter"].Rules[OutChain]; !slices.Equal(got, []string{
		"-A NSTR-OUT -o nstbr0 -j RETURN", "-A NSTR-OUT -o nstbr9 -j RETURN", "-A NSTR-OUT -j ACCEPT"}) {
		t.Errorf("NSTR-OUT = %q", got)
	}
	for _, r := range l["filter"].Rules[FwdChain("n")] {
		if strings.HasSuffix(r, "-j ACCEPT") && !strings.Contains(r, "-o nstbr0") {
			t.Errorf("rule %q accepts traffic that does not go to the network's bridge", r)
		}
	}
}

func TestPlanMovesTheForwardJumpAfterTheOperatorsRules(t *testing.T) {
	s := testSet()
	l := applied(t, s, nil)
	f := l["filter"]
	jump := f.Rules["FORWARD"][0]
	f.Rules["FORWARD"] = []string{jump, "-A FORWARD -j DOCKER-USER", "-A FORWARD -d 192.0.2.9/32 -j REJECT"}
	p := PlanIPTables(s, nil, l)
	in := p.RestoreInput()
	del, add := strings.Index(in, "-D FORWARD -m comment"), strings.LastIndex(in, "-A FORWARD -m comment")
	if del < 0 || add < del {
		t.Fatalf("plan does not move the jump to the end:\n%s", in)
	}
	// Another network's jump after ours is not the operator's.
	f.Rules["FORWARD"] = []string{"-A FORWARD -j DOCKER-USER", jump, "-A FORWARD -m comment --comment netsteer:m -j NSTR-FWD-x"}
	if p := PlanIPTables(s, nil, l); !p.Empty() {
		t.Errorf("jump before another network's is fine, plan = %q", p.Missing)
	}
}

func TestPlanConvergesToTheConfig(t *testing.T) {
	old := testSet()
	l := applied(t, old, nil)
	renumbered := old
	renumbered.Subnets = []netip.Prefix{netip.MustParsePrefix("10.2.0.0/24")}
	in := PlanIPTables(renumbered, nil, l).RestoreInput()
	if !strings.Contains(in, "-D POSTROUTING -s 10.1.0.0/24") || !strings.Contains(in, "-A POSTROUTING -s 10.2.0.0/24") {
		t.Errorf("renumbering does not replace the masquerade jump:\n%s", in)
	}
	off := old
	off.Masquerade = false
	in = PlanIPTables(off, nil, l).RestoreInput()
	for _, want := range []string{"-D POSTROUTING -s 10.1.0.0/24", "-F " + MasqChain("n"), "-X " + MasqChain("n")} {
		if !strings.Contains(in, want) {
			t.Errorf("ipMasq off: restore input lacks %q:\n%s", want, in)
		}
	}
	if strings.Index(in, "-X ") < strings.Index(in, "-D POSTROUTING") {
		t.Errorf("chain deleted before the jump to it:\n%s", in)
	}
}

func TestPlanKeepsOtherNetworksReturns(t *testing.T) {
	s := testSet()
	l := applied(t, s, []string{"nstbr7"})
	// A peer unknown to this ADD (its bridge alias is the operator's).
	p := PlanIPTables(s, nil, l)
	if !p.Empty() {
		t.Errorf("plan would drop a peer's RETURN: %q", p.Missing)
	}
}

func TestParseListingReadsSaveAndS(t *testing.T) {
	l := ParseListing("*filter\n:FORWARD DROP [0:0]\n:X - [0:0]\n-A FORWARD -m comment --comment \"netsteer:n\" -j X\nCOMMIT\n-N Y\n-P INPUT ACCEPT\n")
	if !l.Exists["FORWARD"] || !l.Exists["X"] || !l.Exists["Y"] || !l.Exists["INPUT"] {
		t.Errorf("chains = %v", l.Exists)
	}
	if got := l.Rules["FORWARD"]; !slices.Equal(got, []string{"-A FORWARD -m comment --comment netsteer:n -j X"}) {
		t.Errorf("FORWARD rules = %q", got)
	}
}

func TestPlanCommitsOncePerTable(t *testing.T) {
	s := testSet()
	empty := map[string]Listing{"nat": ParseListing(""), "filter": ParseListing("")}
	if got := PlanIPTables(s, nil, empty).Commits(); got != 2 {
		t.Errorf("first plan commits %d times, want 2 (nat, filter)", got)
	}
	l := applied(t, s, nil)
	l["filter"].Rules["FORWARD"] = nil
	if got := PlanIPTables(s, nil, l).Commits(); got != 1 {
		t.Errorf("restoring the FORWARD jump commits %d times, want 1", got)
	}
}

func TestValidateRefusesNamesThatMeanSomethingElse(t *testing.T) {
	for _, bad := range []string{"+", "br+", `br"0`, "br{0}", "-br", "", "br 0", "br;0"} {
		s := testSet()
		s.Bridge = bad
		if s.Validate() == nil {
			t.Errorf("bridge %q accepted", bad)
		}
	}
	if err := testSet().Validate(); err != nil {
		t.Errorf("valid set refused: %v", err)
	}
}
