package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// How a steady-state ADD knows, without listing a single rule, that the
// network's rules are in place: the bridge's alias records "<rule set
// digest>.<generation>", where the generation is the nf_tables ruleset
// generation read when the rules were last verified. The kernel bumps
// the generation on every change to any nf_tables table (iptables-nft's
// included), so an unchanged generation proves nobody touched the rules
// since; a changed one (a flush, a restart of the firewall service, or
// just kube-proxy's own updates) sends the ADD down the slow path, which
// lists, repairs and records again. The alias lives in the netns and dies
// with it or with a reboot, exactly like the rules.

// lockPath serializes the slow path across concurrent plugin runs, so two
// first ADDs on a fresh node cannot both find a rule missing and add it
// twice. /run is tmpfs: the file is gone at reboot.
const lockPath = "/run/netsteer/rules.lock"

func lockRules() (unlock func(), err error) {
	if err := os.MkdirAll("/run/netsteer", 0o700); err != nil {
		return nil, fmt.Errorf("creating lock dir: %w", err)
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", lockPath, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", lockPath, err)
	}
	return func() { f.Close() }, nil // closing releases the flock
}

const stampPrefix = "netsteer-rules:"

// ruleGeneration is the nf_tables ruleset generation, one netlink get.
// Equivalent to: nft list ruleset | head -0; the generation nft -d shows.
func ruleGeneration() (uint32, error) {
	req := nl.NewNetlinkRequest(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_GETGEN, unix.NLM_F_ACK)
	req.AddData(&nl.Nfgenmsg{NfgenFamily: unix.AF_UNSPEC, Version: unix.NFNETLINK_V0})
	msgs, err := req.Execute(unix.NETLINK_NETFILTER, 0)
	if err != nil {
		return 0, fmt.Errorf("reading the nf_tables generation: %w", err)
	}
	for _, m := range msgs {
		if len(m) < nl.SizeofNfgenmsg {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[nl.SizeofNfgenmsg:])
		if err != nil {
			return 0, fmt.Errorf("parsing the nf_tables generation: %w", err)
		}
		for _, a := range attrs {
			if a.Attr.Type == unix.NFTA_GEN_ID && len(a.Value) == 4 {
				return binary.BigEndian.Uint32(a.Value), nil
			}
		}
	}
	return 0, fmt.Errorf("reading the nf_tables generation: no generation in the reply")
}

// ruleStamp is one verified rule set: its digest and the generation at
// which it was verified.
func ruleStamp(digest string, gen uint32) string { return fmt.Sprintf("%s.%x", digest, gen) }

// bridgeStamps reads the stamps recorded on the bridge.
func bridgeStamps(bridge string) (netlink.Link, []string, error) {
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return nil, nil, fmt.Errorf("bridge %s: %w", bridge, err)
	}
	rest, ok := strings.CutPrefix(br.Attrs().Alias, stampPrefix)
	if !ok || rest == "" {
		return br, nil, nil
	}
	return br, strings.Split(rest, ","), nil
}

// recordStamp replaces the bridge's stamp for digest with st, keeping
// the other stamps keep accepts within IFALIASZ. An alias the operator set is left alone;
// the rules are then verified on every ADD.
func recordStamp(br netlink.Link, digest, st string, keep func(stamp string) bool) error {
	alias := br.Attrs().Alias
	if alias != "" && !strings.HasPrefix(alias, stampPrefix) {
		return nil
	}
	list := []string{st}
	if rest, ok := strings.CutPrefix(alias, stampPrefix); ok && rest != "" {
		for _, s := range strings.Split(rest, ",") {
			if !strings.HasPrefix(s, digest+".") && keep(s) {
				list = append(list, s)
			}
		}
	}
	for len(stampPrefix)+len(strings.Join(list, ",")) > 255 {
		list = list[:len(list)-1]
	}
	if err := netlink.LinkSetAlias(br, stampPrefix+strings.Join(list, ",")); err != nil {
		return fmt.Errorf("recording rules on bridge %s: %w", br.Attrs().Name, err)
	}
	return nil
}

// stampedBridges lists the other bridges on the node that carry netsteer
// rules: the peers whose traffic no network accepts as "out of the node".
func stampedBridges(self string) ([]string, error) {
	links, err := nlx.RetryDump(netlink.LinkList)
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	var out []string
	for _, l := range links {
		if a := l.Attrs(); l.Type() == "bridge" && a.Name != self && strings.HasPrefix(a.Alias, stampPrefix) {
			out = append(out, a.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ensureStamped is the frame both backends share: the steady-state test
// (two netlink gets, no exec), then under the lock the backend's slow
// path, then the record. apply verifies and repairs, and reports how many
// nf_tables transactions it committed: when the generation moved by
// exactly that many, nothing but our own commits happened since the
// verification, and the new generation is recorded; otherwise the next
// ADD verifies once more.
// keep filters the other stamps when the new one is recorded; apply
// may decide it.
func ensureStamped(bridge, digest string, apply func() (commits uint32, err error), keep func(stamp string) bool) error {
	if _, _, ok, err := stampFresh(bridge, digest); err != nil || ok {
		return err
	}
	unlock, err := lockRules()
	if err != nil {
		return err
	}
	defer unlock()
	br, gen, ok, err := stampFresh(bridge, digest)
	if err != nil || ok {
		return err
	}
	commits, err := apply()
	if err != nil {
		return err
	}
	if gen, err = generationAfter(gen, commits); err != nil {
		return err
	}
	return recordStamp(br, digest, ruleStamp(digest, gen), keep)
}

// keepStamps drops the bridge's stamps keep refuses.
func keepStamps(br netlink.Link, keep func(stamp string) bool) error {
	rest, ok := strings.CutPrefix(br.Attrs().Alias, stampPrefix)
	if !ok {
		return nil
	}
	var list []string
	for _, s := range strings.Split(rest, ",") {
		if s != "" && keep(s) {
			list = append(list, s)
		}
	}
	if err := netlink.LinkSetAlias(br, stampPrefix+strings.Join(list, ",")); err != nil {
		return fmt.Errorf("recording rules on bridge %s: %w", br.Attrs().Name, err)
	}
	return nil
}

// stampFresh reads the bridge, the ruleset generation and whether the
// bridge carries the stamp of digest at that generation.
func stampFresh(bridge, digest string) (netlink.Link, uint32, bool, error) {
	br, stamps, err := bridgeStamps(bridge)
	if err != nil {
		return nil, 0, false, err
	}
	gen, err := ruleGeneration()
	if err != nil {
		return nil, 0, false, err
	}
	return br, gen, slices.Contains(stamps, ruleStamp(digest, gen)), nil
}

// generationAfter is the generation to record after commits of our own
// on top of gen: the current one when it moved by exactly that many, else
// 0, so the next ADD verifies again (someone else committed too).
func generationAfter(gen, commits uint32) (uint32, error) {
	if commits == 0 {
		return gen, nil
	}
	after, err := ruleGeneration()
	if err != nil || after-gen != commits {
		return 0, err
	}
	return after, nil
}
