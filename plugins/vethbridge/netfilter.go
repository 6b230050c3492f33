package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/netsteer/netsteer/pkg/netrules"
	"github.com/netsteer/netsteer/pkg/runmark"
)

// iptables is the iptables backend: the adapter that lists chains, runs
// iptables-restore and probes the binaries. What the rules are is
// netrules' business.
type iptables struct{}

func (iptables) cmds(ipv6 bool) (cmd, save, restore string) {
	if ipv6 {
		return "ip6tables", "ip6tables-save", "ip6tables-restore"
	}
	return "iptables", "iptables-save", "iptables-restore"
}

// ensure brings the tables named (nat, filter) to the set's rules. It
// reports how many nf_tables transactions it made (one per table).
func (ipt iptables) ensure(s netrules.Set, tables ...string) (uint32, error) {
	peers, err := stampedBridges(s.Bridge)
	if err != nil {
		return 0, err
	}
	plan, err := ipt.plan(s, peers, tables)
	if err != nil || plan.Empty() {
		return 0, err
	}
	_, _, restore := ipt.cmds(s.IPv6)
	if err := run(restore, strings.NewReader(plan.RestoreInput()), "-w", "--noflush"); err != nil {
		return 0, fmt.Errorf("loading %s rules for network %s: %w", s.Family(), s.Network, err)
	}
	return plan.Commits(), nil
}

// plan lists the tables named (one iptables-save each; a missing chain
// is not reliably told from an incompatible one by iptables-nft's -S) and
// compares them with the set. It runs on the slow path only.
func (ipt iptables) plan(s netrules.Set, peers, tables []string) (netrules.Plan, error) {
	_, save, _ := ipt.cmds(s.IPv6)
	listings := map[string]netrules.Listing{}
	for _, table := range tables {
		out, err := output(save, "-t", table)
		if err != nil {
			return netrules.Plan{}, err
		}
		listings[table] = netrules.ParseListing(out)
	}
	if err := netrules.CheckOwners(s, listings); err != nil {
		return netrules.Plan{}, err
	}
	return netrules.PlanIPTables(s, peers, listings), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// check names the first difference between the node's rules and the set's.
func (ipt iptables) check(s netrules.Set) error {
	peers, err := stampedBridges(s.Bridge)
	if err != nil {
		return err
	}
	plan, err := ipt.plan(s, peers, []string{"nat", "filter"})
	if err != nil {
		return fmt.Errorf("netfilter: %w", err)
	}
	if !plan.Empty() {
		return fmt.Errorf("netfilter (iptables, %s): %s", s.Family(), plan.Missing[0])
	}
	return nil
}

// usable reports whether the family's iptables can manage rules. The
// binaries are looked up on every call (a few stats); the probe that
// execs one is cached for probeTTL per binary, so STATUS, which
// containerd runs every few seconds, costs no exec while the cache is
// fresh. A probe that finds the legacy xtables lock held counts as
// usable: someone is using iptables right now.
func (ipt iptables) usable(ipv6 bool) error {
	cmd, save, restore := ipt.cmds(ipv6)
	var paths []string
	for _, c := range []string{cmd, save, restore} {
		p, err := exec.LookPath(c)
		if err != nil {
			return fmt.Errorf("%s not found in PATH (install the iptables package, or set \"ipMasqBackend\": \"nftables\")", c)
		}
		paths = append(paths, p)
	}
	return cachedProbe(paths, func() error {
		err := run(cmd, nil, "-t", "filter", "-S", "FORWARD")
		if err != nil && strings.Contains(err.Error(), "xtables lock") {
			return nil
		}
		return err
	})
}

const probeTTL = 5 * time.Minute

// cachedProbe runs probe unless a success for the same binaries was
// recorded less than probeTTL ago. The record is a file under /run named
// after the binaries' paths and modification times, so replacing a
// binary invalidates it.
func cachedProbe(paths []string, probe func() error) error {
	h := sha256.New()
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		fmt.Fprintf(h, "%s %d\n", p, st.ModTime().UnixNano())
	}
	mark := filepath.Join("/run/netsteer", "probe-"+hex.EncodeToString(h.Sum(nil))[:16])
	if st, err := os.Stat(mark); err == nil && time.Since(st.ModTime()) < probeTTL {
		return nil
	}
	if err := probe(); err != nil {
		return err
	}
	// Best effort: without the record the next call probes again.
	if os.MkdirAll("/run/netsteer", 0o700) == nil {
		_ = os.WriteFile(mark, nil, 0o600)
		now := time.Now()
		_ = os.Chtimes(mark, now, now)
		// Marks of replaced binaries never match again.
		runmark.Prune("/run/netsteer", "probe-", probeTTL, now)
	}
	return nil
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
		return fmt.Errorf("%s not found in PATH: %w", name, err)
	}
	return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr))
}
