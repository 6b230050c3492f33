package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
)

// The network's netfilter rules, per family:
//
//	nat    POSTROUTING -s <pod subnet> -m comment --comment netsteer:<net> -j NSTR-MASQ-<h>   (ipMasq)
//	nat    NSTR-MASQ-<h>: multicast, noMasqueradeCIDRs and the bridge itself RETURN, the rest MASQUERADE
//	filter FORWARD (first) -m comment --comment netsteer:<net> -j NSTR-FWD-<h>
//	filter NSTR-FWD-<h>: accept from the bridge, and replies to it
//
// They depend on the network alone, never on a pod, so an ADD in steady
// state adds nothing, and DEL never touches netfilter.

// chainRules renders the contents of the network's own chains as
// iptables-restore input; declaring a chain there creates or flushes it,
// so applying the text is idempotent and atomic per table.
func chainRules(rs RuleSet) string {
	var b strings.Builder
	if rs.Masquerade {
		c := masqChain(rs.Network)
		fmt.Fprintf(&b, "*nat\n:%s - [0:0]\n", c)
		multicast := "224.0.0.0/4"
		if rs.IPv6 {
			multicast = "ff00::/8"
		}
		fmt.Fprintf(&b, "-A %s -d %s -j RETURN\n", c, multicast)
		for _, p := range rs.NoMasq {
			fmt.Fprintf(&b, "-A %s -d %s -j RETURN\n", c, p)
		}
		fmt.Fprintf(&b, "-A %s -o %s -j RETURN\n", c, rs.Bridge)
		fmt.Fprintf(&b, "-A %s -j MASQUERADE\nCOMMIT\n", c)
	}
	c := fwdChain(rs.Network)
	fmt.Fprintf(&b, "*filter\n:%s - [0:0]\n", c)
	fmt.Fprintf(&b, "-A %s -i %s -j ACCEPT\n", c, rs.Bridge)
	fmt.Fprintf(&b, "-A %s -o %s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n", c, rs.Bridge)
	return b.String()
}

// jump is a rule in a built-in chain that sends traffic to ours.
type jump struct {
	table, chain string
	insert       bool // first in the chain, ahead of a DROP policy's rules
	spec         []string
}

func jumps(rs RuleSet) []jump {
	comment := []string{"-m", "comment", "--comment", ruleComment(rs.Network)}
	var out []jump
	if rs.Masquerade {
		for _, s := range rs.Subnets {
			out = append(out, jump{table: "nat", chain: "POSTROUTING",
				spec: slices.Concat([]string{"-s", s.String()}, comment, []string{"-j", masqChain(rs.Network)})})
		}
	}
	out = append(out, jump{table: "filter", chain: "FORWARD", insert: true,
		spec: slices.Concat(comment, []string{"-j", fwdChain(rs.Network)})})
	return out
}

// stamp identifies one family's rule set; it is kept in the bridge's alias
// so a repeated ADD knows, with no iptables run, that the rules are in
// place. The alias lives in the netns and dies with it or with a reboot,
// exactly like the rules.
func stamp(rs RuleSet) string {
	parts := []string{chainRules(rs)}
	for _, j := range jumps(rs) {
		parts = append(parts, strings.Join(j.spec, " "))
	}
	return digest(parts...)[:16]
}

const stampPrefix = "netsteer-rules:"

// iptables is Firewall on the iptables/ip6tables commands.
type iptables struct{}

var _ Firewall = iptables{}

func (iptables) EnsureRules(rs RuleSet) error {
	st := stamp(rs)
	br, err := netlink.LinkByName(rs.Bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", rs.Bridge, err)
	}
	alias := br.Attrs().Alias
	if stamps(alias)[st] {
		return nil
	}
	unlock, err := lockRules()
	if err != nil {
		return err
	}
	defer unlock()
	// Another ADD may have applied the rules while we waited for the lock.
	if br, err = netlink.LinkByName(rs.Bridge); err != nil {
		return fmt.Errorf("bridge %s: %w", rs.Bridge, err)
	}
	if alias = br.Attrs().Alias; stamps(alias)[st] {
		return nil
	}
	if err := applyRules(rs); err != nil {
		return err
	}
	// An alias the operator set is left alone; we then re-apply each time.
	if alias == "" || strings.HasPrefix(alias, stampPrefix) {
		if err := netlink.LinkSetAlias(br, addStamp(alias, st)); err != nil {
			return fmt.Errorf("recording rules on bridge %s: %w", rs.Bridge, err)
		}
	}
	return nil
}

func stamps(alias string) map[string]bool {
	out := map[string]bool{}
	if rest, ok := strings.CutPrefix(alias, stampPrefix); ok {
		for _, s := range strings.Split(rest, ",") {
			out[s] = true
		}
	}
	return out
}

// addStamp adds st to the alias, keeping the newest entries within IFALIASZ.
func addStamp(alias, st string) string {
	list := []string{st}
	if rest, ok := strings.CutPrefix(alias, stampPrefix); ok && rest != "" {
		list = append(list, strings.Split(rest, ",")...)
	}
	for len(stampPrefix)+len(strings.Join(list, ",")) > 255 {
		list = list[:len(list)-1]
	}
	return stampPrefix + strings.Join(list, ",")
}

// applyRules loads the network's chains and the jumps that are missing in
// one iptables-restore run (one atomic commit per table), after checking
// the jumps, so a first ADD costs a few execs however large the ruleset.
func applyRules(rs RuleSet) error {
	restore, cmd := "iptables-restore", "iptables"
	if rs.IPv6 {
		restore, cmd = "ip6tables-restore", "ip6tables"
	}
	var missing []jump
	for _, j := range jumps(rs) {
		// A failed check also covers "chain does not exist yet".
		if run(cmd, nil, slices.Concat([]string{"-w", "-t", j.table, "-C", j.chain}, j.spec)...) != nil {
			missing = append(missing, j)
		}
	}
	if err := run(restore, strings.NewReader(restoreInput(rs, missing)), "-w", "--noflush"); err != nil {
		return fmt.Errorf("loading rules for network %s: %w", rs.Network, err)
	}
	return nil
}

// restoreInput is chainRules with the missing jumps added to their
// table's section, after the chains they jump to are declared.
func restoreInput(rs RuleSet, missing []jump) string {
	var b strings.Builder
	table := ""
	for _, line := range strings.SplitAfter(chainRules(rs), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = strings.TrimSpace(line[1:])
		case line == "COMMIT\n":
			for _, j := range missing {
				if j.table == table {
					b.WriteString(j.restoreLine() + "\n")
				}
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// restoreLine is the jump as an iptables-restore line.
func (j jump) restoreLine() string {
	op := "-A " + j.chain
	if j.insert {
		op = "-I " + j.chain + " 1"
	}
	return op + " " + strings.Join(j.spec, " ")
}

func (iptables) CheckRules(rs RuleSet) error {
	cmd := "iptables"
	if rs.IPv6 {
		cmd = "ip6tables"
	}
	for _, j := range jumps(rs) {
		if err := run(cmd, nil, slices.Concat([]string{"-w", "-t", j.table, "-C", j.chain}, j.spec)...); err != nil {
			return fmt.Errorf("netfilter: rule %s %s %s missing", j.table, j.chain, strings.Join(j.spec, " "))
		}
	}
	want := parseRestoreRules(chainRules(rs))
	for _, table := range []string{"nat", "filter"} {
		for chain, rules := range want[table] {
			out, err := output(cmd, "-w", "-t", table, "-S", chain)
			if err != nil {
				return fmt.Errorf("netfilter: chain %s %s: %w", table, chain, err)
			}
			for _, r := range rules {
				if !strings.Contains(out, r+"\n") {
					return fmt.Errorf("netfilter: rule %s %q missing", table, r)
				}
			}
		}
	}
	return nil
}

// parseRestoreRules returns the -A lines of restore input by table and chain.
func parseRestoreRules(text string) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	table := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
			out[table] = map[string][]string{}
		case strings.HasPrefix(line, "-A "):
			chain := strings.Fields(line)[1]
			out[table][chain] = append(out[table][chain], line)
		}
	}
	return out
}

func (iptables) Usable(ipv6 bool) error {
	cmd := "iptables"
	if ipv6 {
		cmd = "ip6tables"
	}
	return run(cmd, nil, "-w", "-t", "filter", "-S", "FORWARD")
}

func run(name string, stdin *strings.Reader, args ...string) error {
	c := exec.Command(name, args...)
	if stdin != nil {
		c.Stdin = stdin
	}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return cmdError(name, args, err, stderr.String())
	}
	return nil
}

func output(name string, args ...string) (string, error) {
	var stderr bytes.Buffer
	c := exec.Command(name, args...)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return "", cmdError(name, args, err, stderr.String())
	}
	return string(out), nil
}

func cmdError(name string, args []string, err error, stderr string) error {
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%s not found in PATH (install iptables): %w", name, err)
	}
	return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr))
}
