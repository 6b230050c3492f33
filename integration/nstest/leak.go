package nstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Leaks is the leak checker every reliability test runs after its own
// cleanup: nothing an attachment owns may outlive its DEL (or GC). What a
// network legitimately keeps — its bridge and its one set of netfilter
// rules, which by design live until the node's netns goes — is allowed,
// but only once: a duplicated rule, or a rule of a network the test never
// used, is a leak.
type Leaks struct {
	Node *Node
	// Networks are the networks the test uses; their rules may stay.
	Networks []string
	netns    []Netns
}

// WatchLeaks returns a checker for node and registers its final check.
// Call it right after NewNode: t.Cleanup runs last-registered first, so
// the check runs after every DEL and netns removal the test registers
// later, and before the node itself is removed.
func WatchLeaks(t *testing.T, node *Node, networks ...string) *Leaks {
	t.Helper()
	l := &Leaks{Node: node, Networks: networks}
	t.Cleanup(func() {
		for _, p := range l.Problems(t, true) {
			t.Errorf("leak after cleanup: %s", p)
		}
	})
	return l
}

// Netns makes a container netns the checker tracks: while it exists it
// must hold only lo once its attachments are deleted, and after cleanup
// it must be gone.
func (l *Leaks) Netns(t testing.TB, purpose string) Netns {
	t.Helper()
	ns := NewNetns(t, purpose)
	l.netns = append(l.netns, ns)
	return ns
}

// Check fails the test with every leak found now. Tests call it after
// their DELs, while container namespaces still exist.
func (l *Leaks) Check(t testing.TB) {
	t.Helper()
	for _, p := range l.Problems(t, false) {
		t.Errorf("leak: %s", p)
	}
}

// Problems lists the leaks found now; final also requires the tracked
// container namespaces to be gone.
func (l *Leaks) Problems(t testing.TB, final bool) []string {
	t.Helper()
	var out []string
	out = append(out, l.hostLinks(t)...)
	out = append(out, l.containers(t, final)...)
	out = append(out, l.reservations(t)...)
	out = append(out, l.cached(t)...)
	for _, v6 := range []bool{false, true} {
		out = append(out, l.rules(t, v6)...)
	}
	return out
}

// hostLinks reports any veth, nsv* link or attachment alias in the node's
// host netns: every veth there is the host end of an attachment.
func (l *Leaks) hostLinks(t testing.TB) []string {
	var out []string
	for _, k := range l.Node.Host.Links(t) {
		if k.Kind == "veth" || strings.HasPrefix(k.Name, "nsv") || strings.HasPrefix(k.Alias, "netsteer:") {
			out = append(out, fmt.Sprintf("host link %s (kind %s, alias %q) in %s", k.Name, k.Kind, k.Alias, l.Node.Host.Name))
		}
	}
	return out
}

func (l *Leaks) containers(t testing.TB, final bool) []string {
	var out []string
	for _, ns := range l.netns {
		_, err := os.Stat(ns.Path())
		switch {
		case err == nil && final:
			out = append(out, fmt.Sprintf("netns %s still exists", ns.Name))
		case err == nil:
			for _, k := range ns.Links(t) {
				if k.Name != "lo" {
					out = append(out, fmt.Sprintf("interface %s left in container netns %s", k.Name, ns.Name))
				}
			}
		case !os.IsNotExist(err):
			t.Fatalf("checking netns %s: %v", ns.Name, err)
		}
	}
	return out
}

func (l *Leaks) reservations(t testing.TB) []string {
	return HostLocalReservations(t, l.Node.DataDir)
}

func (l *Leaks) cached(t testing.TB) []string {
	return CachedResults(t, l.Node.CacheDir)
}

// HostLocalReservations reports every host-local reservation file under
// dataDir, of any network and any dataDir below it, with its owner:
// host-local keeps one file per reserved address, holding
// "<container ID>\r\n<ifname>", beside its lock and last_reserved_ip.*
// bookkeeping.
func HostLocalReservations(t testing.TB, dataDir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if name := d.Name(); name != "lock" && !strings.HasPrefix(name, "last_reserved_ip") {
			b, _ := os.ReadFile(path) // the name alone is the leak; the owner helps reading it
			rel, _ := filepath.Rel(dataDir, path)
			out = append(out, fmt.Sprintf("host-local reservation %s (%q)", rel, b))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking host-local data dir: %v", err)
	}
	return out
}

// CachedResults reports libcni's result cache entries under cacheDir
// (results/<net>-<id>-<if>).
func CachedResults(t testing.TB, cacheDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(cacheDir, "results"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading libcni cache: %v", err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, "cached libcni result "+e.Name())
	}
	return out
}

// rules reports netfilter lines of ours that appear more than once or
// that belong to no network of the test.
func (l *Leaks) rules(t testing.TB, v6 bool) []string {
	known := map[string]bool{}
	for _, s := range SharedRuleMarks() {
		known[s] = true
	}
	for _, n := range l.Networks {
		for _, s := range NetworkRuleMarks(n) {
			known[s] = true
		}
	}
	seen := map[string]int{}
	for _, line := range OurRules(l.Node.Host.Rules(t, v6)) {
		seen[line]++
	}
	var out []string
	for line, n := range seen {
		if n > 1 {
			out = append(out, fmt.Sprintf("netfilter rule present %d times (IPv6=%v): %s", n, v6, line))
		}
		if !mentionsAny(line, known) {
			out = append(out, fmt.Sprintf("netfilter rule of no network of this test (IPv6=%v): %s", v6, line))
		}
	}
	sort.Strings(out)
	return out
}

// OurRules keeps the lines of a Rules snapshot that belong to netsteer:
// its chains (NSTR-*), the jumps commented "netsteer:<network>", and its
// nftables table.
func OurRules(rules string) []string {
	var out []string
	for _, line := range strings.Split(rules, "\n") {
		if strings.Contains(line, "NSTR-") || strings.Contains(line, "netsteer:") || strings.HasPrefix(line, "nft ") {
			out = append(out, line)
		}
	}
	return out
}

// NetworkRules keeps the lines of a Rules snapshot that belong to one
// network, in order.
func NetworkRules(rules, network string) []string {
	marks := map[string]bool{}
	for _, s := range NetworkRuleMarks(network) {
		marks[s] = true
	}
	var out []string
	for _, line := range OurRules(rules) {
		if mentionsAny(line, marks) {
			out = append(out, line)
		}
	}
	return out
}

// NetworkRuleMarks are the strings that tie a rule to a network: its two
// chain names and the jump comment, which iptables-save prints quoted
// ("netsteer:<net>") or bare. They restate vethbridge's naming
// (plugins/vethbridge/names.go) because the test must recognise the
// plugin's objects from the kernel alone, as GC does.
func NetworkRuleMarks(network string) []string {
	h := sha256.Sum256([]byte(network + "\x00"))
	d := hex.EncodeToString(h[:])
	return []string{"NSTR-MASQ-" + d[:18] + " ", "NSTR-FWD-" + d[:19] + " ", `"netsteer:` + network + `"`, "netsteer:" + network + " ",
		"fwd-" + d[:32] + " ", "masq4-" + d[:32] + " ", "masq6-" + d[:32] + " "}
}

// SharedRuleMarks tie a rule to every network at once: the chain that
// tells "out of the node" from "to another netsteer bridge", and the
// nftables table's base chains and bridge set.
func SharedRuleMarks() []string {
	return []string{"NSTR-OUT ", "nft forward ", "nft postrouting ", "nft bridges "}
}

func mentionsAny(line string, marks map[string]bool) bool {
	for m := range marks {
		if strings.Contains(line+" ", m) {
			return true
		}
	}
	return false
}
