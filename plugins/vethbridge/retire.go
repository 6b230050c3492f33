package main

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/netrules"
)

// Retiring a backend: when the backend a network resolves to changes
// (auto flipped because the iptables binaries appeared or went, or
// ipMasqBackend was edited), the network's rules in the backend it left
// are removed, so its traffic is never decided by two rule sets. The
// bridge's stamps tell which backends hold the network's rules (each
// stamp starts with the backend's first three letters, see
// ensureStamped), so the check costs the netlink get ADD makes anyway,
// and DEL and GC one more.

// stampBackend is the backend a stamp was recorded for.
func stampBackend(stamp string) string {
	switch {
	case strings.HasPrefix(stamp, BackendIPTables[:3]):
		return BackendIPTables
	case strings.HasPrefix(stamp, BackendNFTables[:3]):
		return BackendNFTables
	}
	return ""
}

// leftBehind reports whether stamps show rules of a backend other than
// chosen.
func leftBehind(stamps []string, chosen string) bool {
	return slices.ContainsFunc(stamps, func(s string) bool { b := stampBackend(s); return b != "" && b != chosen })
}

// retire removes the network's rules, both families, from the backend
// other than chosen. It reports the nf_tables transactions it made.
func (f netfilter) retire(network, chosen string) (uint32, error) {
	if chosen == BackendIPTables {
		return f.nft.remove(network)
	}
	var commits uint32
	var errs []error
	for _, ipv6 := range []bool{false, true} {
		_, save, _ := f.ipt.cmds(ipv6)
		if _, err := exec.LookPath(save); err != nil {
			// Nothing lists iptables' rules without its binaries: what
			// they made stays until they are back (see README,
			// ipMasqBackend), and the bridge's stamps keep saying so.
			errs = append(errs, fmt.Errorf("%s not found in PATH, so the network's %s rules stay until it is back", save, f.ipt.family(ipv6)))
			continue
		}
		tables := []string{"nat", "filter"}
		// Under an iptables-nft FORWARD policy drop, the nftables
		// backend keeps its forward rules in iptables' filter table too.
		if drop, err := xtablesForwardDrops(ipv6); err != nil {
			errs = append(errs, err)
			continue
		} else if drop {
			tables = tables[:1]
		}
		c, err := f.ipt.remove(network, ipv6, tables...)
		commits += c
		errs = append(errs, err)
	}
	return commits, errors.Join(errs...)
}

// RetireOtherBackend is DEL's and GC's part of retiring: it removes the
// network's rules from the backend the config does not resolve to when
// the bridge's stamps show that backend holds them.
func (f netfilter) RetireOtherBackend(network, bridge, backend string) error {
	if err := (netrules.Set{Network: network, Bridge: bridge}).Validate(); err != nil {
		return err
	}
	if backend != "" && backend != BackendIPTables && backend != BackendNFTables {
		return nil // ADD refuses such a config, so it never made rules
	}
	chosen := f.resolve(backend, false)
	if left, err := retiring(bridge, chosen); !left || err != nil {
		return err
	}
	unlock, err := lockRules()
	if err != nil {
		return err
	}
	defer unlock()
	br, stamps, err := bridgeStamps(bridge)
	if err != nil || !leftBehind(stamps, chosen) {
		return err // nil when a concurrent run retired it first
	}
	if _, err := f.retire(network, chosen); err != nil {
		return fmt.Errorf("removing network %s's rules from the %s backend it no longer uses: %w", network, otherBackend(chosen), err)
	}
	return keepStamps(br, func(s string) bool { return stampBackend(s) == chosen })
}

// retiring reports whether the bridge's stamps show rules of the network
// in the backend other than chosen: one netlink get. A bridge that is
// gone took its stamps along, and ADD starts afresh.
func retiring(bridge, chosen string) (bool, error) {
	_, stamps, err := bridgeStamps(bridge)
	var missing netlink.LinkNotFoundError
	if errors.As(err, &missing) {
		return false, nil
	}
	return err == nil && leftBehind(stamps, chosen), err
}

func otherBackend(b string) string {
	if b == BackendNFTables {
		return BackendIPTables
	}
	return BackendNFTables
}

func (iptables) family(ipv6 bool) string {
	if ipv6 {
		return "ipv6"
	}
	return "ipv4"
}

// remove takes the network's rules out of the family's tables named.
func (ipt iptables) remove(network string, ipv6 bool, tables ...string) (uint32, error) {
	_, save, restore := ipt.cmds(ipv6)
	listings := map[string]netrules.Listing{}
	for _, table := range tables {
		out, err := output(save, "-t", table)
		if err != nil {
			return 0, err
		}
		listings[table] = netrules.ParseListing(out)
	}
	plan := netrules.PlanIPTablesRemoval(network, listings)
	if plan.Empty() {
		return 0, nil
	}
	if err := run(restore, strings.NewReader(plan.RestoreInput()), "-w", "--noflush"); err != nil {
		return 0, fmt.Errorf("removing iptables rules of network %s: %w", network, err)
	}
	return plan.Commits(), nil
}

// remove takes the network out of our table.
func (n nftables) remove(network string) (uint32, error) {
	if _, err := exec.LookPath("nft"); err != nil {
		// Nothing lists our table without nft (see README, ipMasqBackend).
		return 0, fmt.Errorf("nft not found in PATH, so the network's nftables rules stay until it is back")
	}
	st, err := n.state()
	if err != nil {
		return 0, err
	}
	plan := netrules.PlanNFTRemoval(network, st)
	if plan.Empty() {
		return 0, nil
	}
	if err := run("nft", strings.NewReader(plan.Script()), "-f", "-"); err != nil {
		return 0, fmt.Errorf("removing nftables rules of network %s: %w", network, err)
	}
	return 1, nil
}
