package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/netsteer/netsteer/pkg/netrules"
)

// nftables is the nftables backend: our own table, inet netsteer, written
// with `nft -f` in one transaction and listed with `nft -j` on the slow
// path only (see ensureStamped). What the table holds is netrules'
// business.
//
// A drop in any base chain is final, so an accept in our table cannot
// override an iptables-nft FORWARD policy DROP (Docker sets one). Where
// that chain exists with policy drop, the network's forward rules are
// also put there, as the iptables backend puts them: after the
// operator's rules, accepting the network's own traffic only.
type nftables struct{ ipt iptables }

func (n nftables) state() (netrules.NFTState, error) {
	out, err := output("nft", "-j", "list", "table", "inet", netrules.Table)
	if err != nil && !isNoSuchTable(err) {
		return netrules.NFTState{}, err
	}
	return netrules.ParseNFTJSON([]byte(out))
}

func isNoSuchTable(err error) bool { return strings.Contains(err.Error(), "No such file or directory") }

func (n nftables) ensure(s netrules.Set) (uint32, error) {
	peers, err := stampedBridges(s.Bridge)
	if err != nil {
		return 0, err
	}
	st, err := n.state()
	if err != nil {
		return 0, err
	}
	if err := netrules.CheckNFTOwners(s, st); err != nil {
		return 0, err
	}
	var commits uint32
	if plan := netrules.PlanNFT(s, peers, st); !plan.Empty() {
		if err := run("nft", strings.NewReader(plan.Script()), "-f", "-"); err != nil {
			return 0, fmt.Errorf("loading nftables rules for network %s: %w", s.Network, err)
		}
		commits++
	}
	drop, err := xtablesForwardDrops(s.IPv6)
	if err != nil || !drop {
		return commits, err
	}
	if err := n.ipt.usable(s.IPv6); err != nil {
		return commits, fmt.Errorf("the %s FORWARD chain of iptables-nft has policy drop, and its forward rules need the iptables binaries: %w", s.Family(), err)
	}
	c, err := n.ipt.ensure(s, "filter")
	return commits + c, err
}

// xtablesForwardDrops reports whether iptables-nft's FORWARD chain of the
// family exists with policy drop.
func xtablesForwardDrops(ipv6 bool) (bool, error) {
	family := "ip"
	if ipv6 {
		family = "ip6"
	}
	out, err := output("nft", "-j", "list", "chain", family, "filter", "FORWARD")
	if err != nil {
		if isNoSuchTable(err) {
			return false, nil
		}
		return false, err
	}
	var doc struct {
		Nftables []struct {
			Chain *struct{ Hook, Policy string } `json:"chain"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return false, fmt.Errorf("parsing nft listing of %s filter FORWARD: %w", family, err)
	}
	for _, o := range doc.Nftables {
		if o.Chain != nil && o.Chain.Hook == "forward" && o.Chain.Policy == "drop" {
			return true, nil
		}
	}
	return false, nil
}

func (n nftables) check(s netrules.Set) error {
	peers, err := stampedBridges(s.Bridge)
	if err != nil {
		return err
	}
	st, err := n.state()
	if err != nil {
		return fmt.Errorf("netfilter: %w", err)
	}
	if err := netrules.CheckNFTOwners(s, st); err != nil {
		return err
	}
	if plan := netrules.PlanNFT(s, peers, st); !plan.Empty() {
		return fmt.Errorf("netfilter (nftables, table inet %s): %s", netrules.Table, plan.Missing[0])
	}
	drop, err := xtablesForwardDrops(s.IPv6)
	if err != nil || !drop {
		return err
	}
	plan, err := n.ipt.plan(s, peers, []string{"filter"})
	if err != nil {
		return fmt.Errorf("netfilter: %w", err)
	}
	if !plan.Empty() {
		return fmt.Errorf("netfilter (iptables-nft FORWARD has policy drop, %s): %s", s.Family(), plan.Missing[0])
	}
	return nil
}

// usable needs nf_tables in the kernel (one netlink get) and a working
// nft binary on PATH: a few stats, and one exec cached for probeTTL per
// binary like the iptables probe, so a broken binary fails STATUS too.
func (nftables) usable() error {
	path, err := exec.LookPath("nft")
	if err != nil {
		return fmt.Errorf("nft not found in PATH (install the nftables package, or set \"ipMasqBackend\": \"iptables\")")
	}
	if _, err := ruleGeneration(); err != nil {
		return fmt.Errorf("nf_tables is not usable in this kernel: %w", err)
	}
	return cachedProbe([]string{path}, func() error { return run("nft", nil, "list", "tables") })
}

// netfilter is the Firewall main.go wires: it resolves the backend a
// config asks for ("" is auto: iptables when usable, else nftables, the
// upstream bridge plugin's rule) and runs it behind the shared
// steady-state test.
type netfilter struct {
	ipt iptables
	nft nftables
}

var _ Firewall = netfilter{}

// resolve is the backend for a config. Auto decides on IPv4's iptables
// for both families, as upstream does, so a dual-stack network never
// splits across backends; STATUS then names a missing ip6tables.
func (f netfilter) resolve(backend string, _ bool) string {
	if backend != "" {
		return backend
	}
	if f.ipt.usable(false) == nil {
		return BackendIPTables
	}
	return BackendNFTables
}

func (f netfilter) EnsureRules(rs RuleSet) error {
	s := rs.set()
	if err := s.Validate(); err != nil {
		return err
	}
	backend := f.resolve(rs.Backend, rs.IPv6)
	retired := false
	return ensureStamped(s.Bridge, backend[:3]+s.Digest(), func() (uint32, error) {
		var commits uint32
		var err error
		if backend == BackendNFTables {
			commits, err = f.nft.ensure(s)
		} else {
			commits, err = f.ipt.ensure(s, "nat", "filter")
		}
		if err != nil {
			return commits, err
		}
		return f.retireOnAdd(s, backend, commits, &retired)
	}, func(stamp string) bool { return !retired || stampBackend(stamp) == backend })
}

// retireOnAdd is ADD's part of retiring (see retire.go), on the slow path
// under the lock: when the bridge's stamps show another backend, the
// network's rules there go. A failure there does not fail the ADD, whose
// own rules are in place: it is reported, and the stamps stay, so the
// next ADD, DEL or GC tries again.
func (f netfilter) retireOnAdd(s netrules.Set, backend string, commits uint32, retired *bool) (uint32, error) {
	_, stamps, err := bridgeStamps(s.Bridge)
	if err != nil || !leftBehind(stamps, backend) {
		return commits, err
	}
	c, err := f.retire(s.Network, backend)
	if err != nil {
		fmt.Fprintf(os.Stderr, "netsteer: removing network %s's rules from the %s backend it no longer uses: %v\n", s.Network, otherBackend(backend), err)
		return commits + c, nil
	}
	*retired = true
	return commits + c, nil
}

func (f netfilter) CheckRules(rs RuleSet) error {
	if err := rs.set().Validate(); err != nil {
		return err
	}
	if f.resolve(rs.Backend, rs.IPv6) == BackendNFTables {
		return f.nft.check(rs.set())
	}
	return f.ipt.check(rs.set())
}

func (f netfilter) Usable(backend string, ipv6 bool) (string, error) {
	b := f.resolve(backend, ipv6)
	if b == BackendNFTables {
		return b, f.nft.usable()
	}
	return b, f.ipt.usable(ipv6)
}
