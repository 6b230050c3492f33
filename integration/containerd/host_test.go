//go:build e2e

package containerd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// ipLink is the part of `ip -j addr show` output the tests read.
type ipLink struct {
	Ifindex   int    `json:"ifindex"`
	LinkIndex int    `json:"link_index"` // a veth's peer ifindex
	Ifname    string `json:"ifname"`
	Master    string `json:"master"`
	AddrInfo  []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// inNetns returns argv run inside the network namespace at nsPath; the
// host's when nsPath is empty.
func inNetns(nsPath string, argv ...string) []string {
	if nsPath == "" {
		return argv
	}
	return append([]string{"nsenter", "--net=" + nsPath}, argv...)
}

func run(argv ...string) (string, error) {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ipLinks runs `ip -j addr show <args>` in nsPath and decodes it.
func ipLinks(nsPath string, args ...string) ([]ipLink, error) {
	argv := inNetns(nsPath, append([]string{"ip", "-j", "addr", "show"}, args...)...)
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return nil, fmt.Errorf("ip -j addr show %s in %q: %w", strings.Join(args, " "), nsPath, err)
	}
	var links []ipLink
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("decoding ip -j output %q: %w", out, err)
	}
	return links, nil
}

// bridgeExists reports whether the test bridge is present in the host netns.
func bridgeExists() bool {
	_, err := os.Stat("/sys/class/net/" + bridgeName)
	return err == nil
}

// portsOnBridge lists the host interfaces enslaved to the test bridge
// (`ip link show master nstctr0`); none when the bridge does not exist.
func portsOnBridge(t *testing.T) []ipLink {
	t.Helper()
	if !bridgeExists() {
		return nil
	}
	links, err := ipLinks("", "master", bridgeName)
	if err != nil {
		t.Fatalf("listing ports of %s: %v", bridgeName, err)
	}
	return links
}

// rulesMentioning returns the firewall lines (iptables-save of every table,
// and the native nftables ruleset when nft is installed) containing s.
func rulesMentioning(t *testing.T, s string) []string {
	t.Helper()
	dumps := [][]string{{"iptables-save"}}
	if _, err := exec.LookPath("nft"); err == nil {
		dumps = append(dumps, []string{"nft", "list", "ruleset"})
	}
	var hits []string
	for _, argv := range dumps {
		out, err := run(argv...)
		if err != nil {
			t.Fatalf("dumping rules: %v", err)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, s) {
				hits = append(hits, strings.TrimSpace(line))
			}
		}
	}
	return hits
}

// hostSnapshot remembers the host firewall before a test's containerd
// starts, so cleanup removes exactly what appeared for our network.
type hostSnapshot struct {
	t         *testing.T
	chains    map[string][]string // table -> chain names
	nftTables []string            // "family name"
}

var iptablesTables = []string{"filter", "nat", "mangle", "raw"}

func snapshotHostNetwork(t *testing.T) *hostSnapshot {
	t.Helper()
	s := &hostSnapshot{t: t, chains: map[string][]string{}}
	for _, table := range iptablesTables {
		chains, _, err := iptablesDump(table)
		if err != nil {
			t.Fatalf("snapshot of iptables: %v", err)
		}
		s.chains[table] = chains
	}
	tables, err := nftTables()
	if err != nil {
		t.Fatalf("snapshot of nftables: %v", err)
	}
	s.nftTables = tables
	return s
}

// cleanup deletes, by name, what our network left on the host after every
// pod was removed: veths still on the bridge (a leak, reported), the bridge,
// iptables rules naming our network, bridge or address range, chains with a
// CNI-/nst prefix that did not exist before, and new native nftables tables
// with cni/nst/netsteer in their name.
func (s *hostSnapshot) cleanup() {
	t := s.t
	for _, l := range portsOnBridge(t) {
		t.Errorf("%s still on %s after every pod was removed; deleting it", l.Ifname, bridgeName)
		if _, err := run("ip", "link", "del", l.Ifname); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	if bridgeExists() {
		if _, err := run("ip", "link", "del", bridgeName); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, table := range iptablesTables {
		if err := s.cleanupIptables(table); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	tables, err := nftTables()
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, tb := range tables {
		if slices.Contains(s.nftTables, tb) || !(ourName(strings.Fields(tb)[1]) || emptyIptablesTable(tb)) {
			continue
		}
		if _, err := run(append([]string{"nft", "delete", "table"}, strings.Fields(tb)...)...); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func (s *hostSnapshot) cleanupIptables(table string) error {
	chains, rules, err := iptablesDump(table)
	if err != nil {
		return err
	}
	var newChains []string
	for _, c := range chains {
		if !slices.Contains(s.chains[table], c) && ourName(c) {
			newChains = append(newChains, c)
		}
	}
	var script []string
	for _, r := range rules {
		chain := strings.Fields(r)[1]
		if slices.Contains(newChains, chain) {
			continue // flushed below
		}
		if ourRule(r) || jumpsTo(r, newChains) {
			script = append(script, "-D"+strings.TrimPrefix(r, "-A"))
		}
	}
	for _, c := range newChains {
		script = append(script, "-F "+c)
	}
	for _, c := range newChains {
		script = append(script, "-X "+c)
	}
	if len(script) == 0 {
		return nil
	}
	input := "*" + table + "\n" + strings.Join(script, "\n") + "\nCOMMIT\n"
	cmd := exec.Command("iptables-restore", "--noflush")
	cmd.Stdin = strings.NewReader(input)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("iptables-restore of\n%s: %w: %s", input, err, out)
	}
	return nil
}

// emptyIptablesTable reports whether tb ("family name") is an iptables-nft
// table without rules: our run created it on demand and it is now unused.
func emptyIptablesTable(tb string) bool {
	f := strings.Fields(tb)
	if f[0] != "ip" || !slices.Contains(iptablesTables, f[1]) {
		return false
	}
	_, rules, err := iptablesDump(f[1])
	return err == nil && len(rules) == 0
}

// ourName reports whether a chain or table name is one our plugins or
// portmap create.
func ourName(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "cni") || strings.Contains(lower, "nst") || strings.Contains(lower, "netsteer")
}

func ourRule(rule string) bool {
	return strings.Contains(rule, networkName) || strings.Contains(rule, bridgeName) || strings.Contains(rule, "10.250.")
}

func jumpsTo(rule string, chains []string) bool {
	f := strings.Fields(rule)
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g") && slices.Contains(chains, f[i+1]) {
			return true
		}
	}
	return false
}

// iptablesDump returns the chain names and the "-A ..." rule lines of table.
func iptablesDump(table string) (chains, rules []string, err error) {
	out, err := run("iptables-save", "-t", table)
	if err != nil {
		return nil, nil, err
	}
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			chains = append(chains, strings.Fields(line[1:])[0])
		case strings.HasPrefix(line, "-A "):
			rules = append(rules, line)
		}
	}
	return chains, rules, nil
}

// nftTables lists native nftables tables as "family name"; none without nft.
func nftTables() ([]string, error) {
	if _, err := exec.LookPath("nft"); err != nil {
		return nil, nil
	}
	out, err := run("nft", "list", "tables")
	if err != nil {
		return nil, err
	}
	var tables []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "table" {
			tables = append(tables, f[1]+" "+f[2])
		}
	}
	return tables, nil
}
