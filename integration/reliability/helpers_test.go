//go:build integration

package reliability

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/integration/nstest"
)

// network is one vethbridge network under test: its own bridge, subnet
// and host-local data dir, so two networks on one node share nothing.
type network struct {
	Name, Bridge, Subnet string
	// Version is the config's cniVersion; "" means 1.1.0.
	Version string
	// Extra replaces or adds plugin keys; a nil value deletes the key.
	Extra map[string]any
}

func (nw network) version() string {
	if nw.Version == "" {
		return "1.1.0"
	}
	return nw.Version
}

// plugin is the network's vethbridge entry. DATADIR is the node's
// host-local dir; each network keeps its reservations in a sub dir.
func (nw network) plugin() map[string]any {
	p := map[string]any{
		"type": "vethbridge", "bridge": nw.Bridge, "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
		"ipam": map[string]any{
			"type": "host-local", "dataDir": "DATADIR/" + nw.Name,
			"ranges": [][]map[string]string{{{"subnet": nw.Subnet}}},
		},
	}
	// NST_IPMASQ_BACKEND runs the suite under one netfilter backend.
	if b := os.Getenv("NST_IPMASQ_BACKEND"); b != "" {
		p["ipMasqBackend"] = b
	}
	for k, v := range nw.Extra {
		if v == nil {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return p
}

// conf is the network's config as a runtime sends it to one plugin.
func (nw network) conf() string {
	p := nw.plugin()
	p["cniVersion"], p["name"] = nw.version(), nw.Name
	return mustJSON(p)
}

// conflist is the network as a conflist for libcni.
func (nw network) conflist() string {
	return mustJSON(map[string]any{"cniVersion": nw.version(), "name": nw.Name, "plugins": []any{nw.plugin()}})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only test-built maps of strings, numbers and slices reach here
	}
	return string(b)
}

// env is the CNI environment of one direct plugin run.
func env(command, id, netns string) map[string]string {
	return map[string]string{"CNI_COMMAND": command, "CNI_CONTAINERID": id, "CNI_NETNS": netns, "CNI_IFNAME": "eth0"}
}

// cniError is the error JSON a plugin prints on stdout.
type cniError struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	Details string `json:"details"`
}

// text is the message and details, where skel puts the offending value.
func (e cniError) text() string { return e.Msg + " " + e.Details }

// parseError decodes the plugin's stdout as a CNI error.
func parseError(t testing.TB, stdout string) cniError {
	t.Helper()
	var e cniError
	if err := json.Unmarshal([]byte(stdout), &e); err != nil || e.Code == 0 {
		t.Fatalf("stdout is not CNI error JSON: %q", stdout)
	}
	return e
}

// mustRun runs a plugin command directly in the node's host netns and
// fails the test unless it exits 0.
func mustRun(t testing.TB, node *nstest.Node, nw network, command, id, netns string) string {
	t.Helper()
	stdout, stderr, err := node.RunPlugin(t, "vethbridge", env(command, id, netns), nw.conf())
	if err != nil {
		t.Fatalf("%s %s on %s: %v\nstdout: %s\nstderr: %s", command, id, nw.Name, err, stdout, stderr)
	}
	return stdout
}

// networkRules is the network's own netfilter lines, both families.
func networkRules(t testing.TB, node *nstest.Node, nw network) []string {
	t.Helper()
	return slices.Concat(
		nstest.NetworkRules(node.Host.Rules(t, false), nw.Name),
		nstest.NetworkRules(node.Host.Rules(t, true), nw.Name))
}

// rulesProblem says how the network's rules differ from the complete set.
// With exact, they must equal it; otherwise they may be any part of it
// (an ADD killed before it finished applying them), but no line may
// appear twice or be foreign to the set.
func rulesProblem(got, complete []string, exact bool) string {
	if exact {
		if !slices.Equal(got, complete) {
			return fmt.Sprintf("network rules differ from the complete set:\ngot:\n%s\nwant:\n%s",
				strings.Join(got, "\n"), strings.Join(complete, "\n"))
		}
		return ""
	}
	seen := map[string]bool{}
	for _, l := range got {
		if seen[l] || !slices.Contains(complete, l) {
			return fmt.Sprintf("network rules are not a part of the complete set (line %q):\ngot:\n%s", l, strings.Join(got, "\n"))
		}
		seen[l] = true
	}
	return ""
}

// jumpCount counts the rules of a built-in chain that jump for network;
// under nftables, the elements of the verdict map that stands for it.
func jumpCount(t testing.TB, node *nstest.Node, network, table, chain string) int {
	t.Helper()
	if os.Getenv("NST_IPMASQ_BACKEND") == "nftables" {
		prefix := map[string]string{"FORWARD": "nft nets ", "POSTROUTING": "nft masq4 "}[chain]
		n := 0
		for _, l := range nstest.NetworkRules(strings.Join(node.Host.NFTRules(t), "\n"), network) {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	return len(nstest.NetworkRules(node.Host.Exec(t, "iptables", "-w", "-t", table, "-S", chain), network))
}

// resetNetwork removes the network's bridge and every rule of the node's
// host netns, as a fresh node has them: the next ADD is a first ADD.
// Everything in that netns belongs to the test.
func resetNetwork(t testing.TB, node *nstest.Node, nw network) {
	t.Helper()
	if _, err := node.Host.TryExec("ip", "link", "del", nw.Bridge); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		t.Fatalf("deleting bridge %s: %v", nw.Bridge, err)
	}
	for _, cmd := range []string{"iptables", "ip6tables"} {
		for _, table := range []string{"nat", "filter"} {
			node.Host.Exec(t, cmd, "-w", "-t", table, "-F")
			node.Host.Exec(t, cmd, "-w", "-t", table, "-X")
		}
	}
	// Our nftables table, when the suite runs under that backend.
	_, _ = node.Host.TryExec("nft", "delete", "table", "inet", "netsteer")
}

// hasAttachmentVeth reports whether the node has the host veth of id.
func hasAttachmentVeth(t testing.TB, node *nstest.Node, nw network, id string) bool {
	t.Helper()
	for _, l := range node.Host.Links(t) {
		if l.Alias == "netsteer:"+nw.Name+":"+id+":eth0" {
			return true
		}
	}
	return false
}

// reservedBy reports whether host-local holds an address for id.
func reservedBy(t testing.TB, node *nstest.Node, nw network, id string) bool {
	t.Helper()
	dir := filepath.Join(node.DataDir, nw.Name, nw.Name)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(string(b), id+"\r\n") {
			return true
		}
	}
	return false
}

// snapshot is what input the plugin refuses must leave unchanged: links,
// addresses, routes and netfilter rules of the node and the container as
// the kernel reports them, and the host-local data dir.
func snapshot(t testing.TB, node *nstest.Node, c nstest.Netns) string {
	t.Helper()
	var b strings.Builder
	for _, ns := range []nstest.Netns{node.Host, c} {
		b.WriteString(ns.Topology(t))
		b.WriteString(ns.Rules(t, false))
		b.WriteString(ns.Rules(t, true))
		b.WriteString(ns.Sysctl(t, "net/ipv4/ip_forward"))
	}
	_ = filepath.WalkDir(node.DataDir, func(path string, _ os.DirEntry, err error) error {
		b.WriteString(path + "\n")
		return err
	})
	return b.String()
}

// cniCode is the CNI error code of a libcni error; 0 when it has none.
func cniCode(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}
