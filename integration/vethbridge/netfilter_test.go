//go:build integration

package vethbridge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netsteer/netsteer/integration/nstest"
)

// Netfilter behaviour, under the backend the suite runs with
// (NST_IPMASQ_BACKEND): the operator's FORWARD rules decide first, only
// a DROP policy is overridden, and only for the network's own traffic;
// rules heal after a flush and follow the config.

// dialFails connects from inside ns and fails the test if it connects.
func dialFails(t *testing.T, ns nstest.Netns, addr string, port int) {
	t.Helper()
	err := ns.Do(t, func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, fmt.Sprint(port)), 2*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err == nil {
		t.Fatalf("%s connected to %s:%d, which the node's rules forbid", ns.Name, addr, port)
	}
}

// pingFails sends one echo request and fails the test if it gets a reply.
func pingFails(t *testing.T, from nstest.Netns, to string) {
	t.Helper()
	if out, err := from.TryExec("ping", "-c", "1", "-W", "1", to); err == nil {
		t.Fatalf("ping %s from %s got a reply, which the node's policy forbids:\n%s", to, from.Name, out)
	}
}

func TestOperatorForwardRulesComeFirst(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "oper", plugin("oper", []string{"10.50.0.0/24"}, nil)), 2)
	out := outside(t, s.node)
	blocked, _ := listen(t, out, "192.0.2.2")
	later, laterRemotes := listen(t, out, "192.0.2.2")
	open, openRemotes := listen(t, out, "192.0.2.2")
	s.node.Host.Exec(t, "iptables", "-P", "FORWARD", "DROP")
	s.node.Host.Exec(t, "iptables", "-A", "FORWARD", "-p", "tcp", "--dport", fmt.Sprint(blocked), "-j", "REJECT")
	s.add(t, 0)
	dialFails(t, s.conts[0].Netns, "192.0.2.2", blocked)
	dial(t, s.node, s.conts[0].Netns, "192.0.2.2", open)
	<-openRemotes
	dial(t, s.node, s.conts[0].Netns, "192.0.2.2", later)
	<-laterRemotes

	// A rule the operator appends after ours still decides once the next
	// ADD has put our jump back after it.
	s.node.Host.Exec(t, "iptables", "-A", "FORWARD", "-p", "tcp", "--dport", fmt.Sprint(later), "-j", "REJECT")
	s.add(t, 1)
	dialFails(t, s.conts[0].Netns, "192.0.2.2", later)
	dial(t, s.node, s.conts[1].Netns, "192.0.2.2", open)
	<-openRemotes
	if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
		t.Errorf("CHECK after the jump moved: %v", err)
	}
}

func TestTwoNetworksCannotReachEachOtherUnderDrop(t *testing.T) {
	node := nstest.NewNode(t)
	a := &setup{node: node, list: node.Conflist(t, "10-a.conflist", conflist("1.1.0", "neta",
		plugin("neta", []string{"10.51.0.0/24"}, map[string]any{"bridge": "nstbra"})))}
	b := &setup{node: node, list: node.Conflist(t, "20-b.conflist", conflist("1.1.0", "netb",
		plugin("netb", []string{"10.52.0.0/24"}, map[string]any{"bridge": "nstbrb"})))}
	for _, s := range []*setup{a, b} {
		for i := 0; i < 2; i++ {
			ns := nstest.NewNetns(t, fmt.Sprintf("c%d", i))
			s.conts = append(s.conts, nstest.Attachment{ID: "ctr-" + ns.Name, Netns: ns, IfName: "eth0"})
		}
	}
	out := outside(t, node)
	node.Host.Exec(t, "iptables", "-P", "FORWARD", "DROP")
	ra, rb := a.add(t, 0), b.add(t, 0)
	a1, b1 := a.add(t, 1), b.add(t, 1)
	ping(t, a.conts[0].Netns, addrOf(t, a1, false))
	ping(t, b.conts[0].Netns, addrOf(t, b1, false))
	pingFails(t, a.conts[0].Netns, addrOf(t, rb, false))
	pingFails(t, b.conts[0].Netns, addrOf(t, ra, false))
	port, remotes := listen(t, out, "192.0.2.2")
	for _, c := range []nstest.Netns{a.conts[0].Netns, b.conts[0].Netns} {
		dial(t, node, c, "192.0.2.2", port)
		<-remotes
	}
}

func TestDNATedConnectionsReachThePodUnderDrop(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "dnat", plugin("dnat", []string{"10.53.0.0/24"}, nil)), 1)
	out := outside(t, s.node)
	s.node.Host.Exec(t, "iptables", "-P", "FORWARD", "DROP")
	r := s.add(t, 0)
	pod := addrOf(t, r, false)
	port, remotes := listen(t, s.conts[0].Netns, pod)
	// What portmap (hostPort) and kube-proxy (NodePort) install.
	s.node.Host.Exec(t, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", "192.0.2.1", "-p", "tcp", "--dport", "30080",
		"-j", "DNAT", "--to-destination", fmt.Sprintf("%s:%d", pod, port))
	dial(t, s.node, out, "192.0.2.1", 30080)
	if got := <-remotes; got != "192.0.2.2" {
		t.Errorf("pod saw the NodePort connection from %s, want the client 192.0.2.2", got)
	}
	// Without DNAT, the outside cannot open connections to pods.
	nstest.Run(t, "ip", "-n", out.Name, "route", "add", "10.53.0.0/24", "via", "192.0.2.1")
	dialFails(t, out, pod, port)
}

// flush empties the node's netfilter the way an operator or a firewall
// service restart does, for the backend under test.
func flush(t *testing.T, node *nstest.Node) {
	t.Helper()
	if backend() == "nftables" {
		node.Host.Exec(t, "nft", "flush", "ruleset")
		return
	}
	for _, cmd := range []string{"iptables", "ip6tables"} {
		for _, table := range []string{"filter", "nat"} {
			node.Host.Exec(t, cmd, "-t", table, "-F")
			node.Host.Exec(t, cmd, "-t", table, "-X")
		}
	}
}

func TestFlushThenAddHeals(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "heal", plugin("heal", []string{"10.54.0.0/24", "fd00:54::/64"}, nil)), 2)
	out := outside(t, s.node)
	s.add(t, 0)
	want := ourRules(t, s.node)
	flush(t, s.node)
	if err := s.node.Check(t, s.list, s.conts[0]); err == nil {
		t.Fatal("CHECK passed with the rules flushed: the test proves nothing")
	}
	s.add(t, 1)
	if got := ourRules(t, s.node); got != want {
		t.Errorf("rules after flush and ADD:\n%s\nwant:\n%s", got, want)
	}
	if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
		t.Errorf("CHECK after the heal: %v", err)
	}
	port, remotes := listen(t, out, "192.0.2.2")
	dial(t, s.node, s.conts[0].Netns, "192.0.2.2", port)
	if got := <-remotes; got != "192.0.2.1" {
		t.Errorf("outside saw %s after the heal, want the node's 192.0.2.1 (masquerade)", got)
	}
}

// ourRules is every netsteer rule of the node, both families.
func ourRules(t *testing.T, node *nstest.Node) string {
	t.Helper()
	return strings.Join(nstest.OurRules(node.Host.Rules(t, false)+"\n"+node.Host.Rules(t, true)), "\n")
}

func TestRulesFollowTheConfig(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "conv", plugin("conv", []string{"10.55.0.0/24"}, nil)), 3)
	s.add(t, 0)
	masq := func() string {
		var m []string
		for _, l := range nstest.NetworkRules(s.node.Host.Rules(t, false), "conv") {
			if strings.Contains(strings.ToLower(l), "masq") {
				m = append(m, l)
			}
		}
		return strings.Join(m, "\n")
	}
	if !strings.Contains(masq(), "10.55.0.0/24") {
		t.Fatalf("no masquerade for 10.55.0.0/24 after the first ADD:\n%s", masq())
	}
	s.list = s.node.Conflist(t, "10-test.conflist", conflist("1.1.0", "conv",
		plugin("conv", []string{"10.55.0.0/24"}, map[string]any{"ipMasq": false})))
	s.add(t, 1)
	if m := masq(); m != "" {
		t.Errorf("ipMasq switched off, masquerade rules remain:\n%s", m)
	}
	if err := s.node.Check(t, s.list, s.conts[1]); err != nil {
		t.Errorf("CHECK with ipMasq off: %v", err)
	}
	s.list = s.node.Conflist(t, "10-test.conflist", conflist("1.1.0", "conv", plugin("conv", []string{"10.56.0.0/24"}, nil)))
	s.add(t, 2)
	if m := masq(); strings.Contains(m, "10.55.0.0/24") || !strings.Contains(m, "10.56.0.0/24") {
		t.Errorf("after renumbering to 10.56.0.0/24, masquerade rules are:\n%s", m)
	}
	if err := s.node.Check(t, s.list, s.conts[2]); err != nil {
		t.Errorf("CHECK after renumbering: %v", err)
	}
}

// pathWith is a PATH directory holding only links to the named commands.
func pathWith(t *testing.T, cmds ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range cmds {
		for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
			if _, err := os.Stat(filepath.Join(d, c)); err == nil {
				if err := os.Symlink(filepath.Join(d, c), filepath.Join(dir, c)); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	return dir
}

// direct is one network's config as a runtime sends it to the plugin.
func direct(t *testing.T, network string, subnets []string, overrides map[string]any) string {
	t.Helper()
	p := plugin(network, subnets, overrides)
	p["cniVersion"], p["name"] = "1.1.0", network
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func cniEnv(command, id, netns, path string) map[string]string {
	return map[string]string{"CNI_COMMAND": command, "CNI_CONTAINERID": id, "CNI_NETNS": netns, "CNI_IFNAME": "eth0", "PATH": path}
}

func TestAutoPicksNFTablesWithoutIPTables(t *testing.T) {
	node := nstest.NewNode(t)
	c := nstest.NewNetns(t, "c")
	path := pathWith(t, "nft")
	conf := direct(t, "auto", []string{"10.57.0.0/24"}, map[string]any{"ipMasqBackend": nil})
	if out, _, err := node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "STATUS", "PATH": path}, conf); err != nil {
		t.Fatalf("STATUS without iptables: %v\n%s", err, out)
	}
	res, _, err := node.RunPlugin(t, "vethbridge", cniEnv("ADD", "auto0", c.Path(), path), conf)
	if err != nil {
		t.Fatalf("ADD without iptables: %v\n%s", err, res)
	}
	t.Cleanup(func() { _, _, _ = node.RunPlugin(t, "vethbridge", cniEnv("DEL", "auto0", c.Path(), path), conf) })
	rules := nstest.NetworkRules(node.Host.Rules(t, false), "auto")
	if len(rules) == 0 || !strings.HasPrefix(rules[0], "nft ") {
		t.Errorf("auto without iptables did not pick nftables; the network's rules:\n%s", strings.Join(rules, "\n"))
	}
	check := direct(t, "auto", []string{"10.57.0.0/24"}, map[string]any{"ipMasqBackend": nil, "prevResult": json.RawMessage(res)})
	if out, _, err := node.RunPlugin(t, "vethbridge", cniEnv("CHECK", "auto0", c.Path(), path), check); err != nil {
		t.Errorf("CHECK without iptables: %v\n%s", err, out)
	}
	explicit := direct(t, "auto", []string{"10.57.0.0/24"}, map[string]any{"ipMasqBackend": "iptables"})
	out, _, err := node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "STATUS", "PATH": path}, explicit)
	if err == nil || !strings.Contains(out, `"code": 50`) || !strings.Contains(out, "install the iptables package") {
		t.Errorf("STATUS with ipMasqBackend iptables and no iptables = %v %s, want code 50 with the remedy", err, out)
	}
}

func TestStatusCoversEveryFamily(t *testing.T) {
	node := nstest.NewNode(t)
	path := pathWith(t, "iptables", "iptables-save", "iptables-restore", "nft")
	for _, tc := range []struct {
		name    string
		subnets []string
		ok      bool
	}{
		{"ipv4 only", []string{"10.58.0.0/24"}, true},
		{"dual stack", []string{"10.58.0.0/24", "fd00:58::/64"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := direct(t, "fam", tc.subnets, map[string]any{"ipMasqBackend": "iptables"})
			out, _, err := node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "STATUS", "PATH": path}, conf)
			switch {
			case tc.ok && err != nil:
				t.Errorf("STATUS: %v %s", err, out)
			case !tc.ok && (err == nil || !strings.Contains(out, `"code": 50`) || !strings.Contains(out, "ip6tables")):
				t.Errorf("STATUS with ip6tables missing = %v %s, want code 50 naming ip6tables", err, out)
			}
		})
	}
}

// TestStatusProbeIsCachedAndToleratesTheXtablesLock runs STATUS against
// an iptables that logs each run and answers as iptables-legacy does
// while another program holds the xtables lock.
func TestStatusProbeIsCachedAndToleratesTheXtablesLock(t *testing.T) {
	node := nstest.NewNode(t)
	path := pathWith(t, "iptables-save", "iptables-restore")
	log := filepath.Join(t.TempDir(), "runs")
	script := fmt.Sprintf("#!/bin/sh\necho run >> %s\necho 'Another app is currently holding the xtables lock. Perhaps you want to use the -w option?' >&2\nexit 4\n", log)
	if err := os.WriteFile(filepath.Join(path, "iptables"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := direct(t, "lock", []string{"10.59.0.0/24"}, map[string]any{"ipMasqBackend": "iptables"})
	for i := 0; i < 3; i++ {
		if out, _, err := node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "STATUS", "PATH": path}, conf); err != nil {
			t.Fatalf("STATUS %d while the xtables lock is held: %v %s", i, err, out)
		}
	}
	b, _ := os.ReadFile(log)
	if runs := strings.Count(string(b), "run"); runs != 1 {
		t.Errorf("three STATUS calls ran iptables %d times, want 1 (the cached probe)", runs)
	}
}

// TestStatusReusesOnlyAnIPAMSuccess runs STATUS against an IPAM plugin
// that logs each run and fails while a file exists: a success is reused
// for the next calls (one run for three), a failed ADD drops it, a
// failure is never reused, and a replaced binary is asked again.
func TestStatusReusesOnlyAnIPAMSuccess(t *testing.T) {
	node := nstest.NewNode(t)
	c := nstest.NewNetns(t, "c")
	dir := t.TempDir()
	bin, log, broken := filepath.Join(dir, "bin"), filepath.Join(dir, "runs"), filepath.Join(dir, "broken")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	writeIPAM := func(version string) {
		t.Helper()
		script := fmt.Sprintf(`#!/bin/sh
# %s
cat >/dev/null
echo "$CNI_COMMAND" >> %s
case "$CNI_COMMAND" in ADD|STATUS) ;; *) exit 0 ;; esac
if [ -e %s ]; then echo '{"cniVersion":"1.1.0","code":11,"msg":"nst fake IPAM is broken"}'; exit 1; fi
echo '{"cniVersion":"1.1.0","ips":[{"address":"10.61.0.5/24","gateway":"10.61.0.1"}]}'
`, version, log, broken)
		if err := os.WriteFile(filepath.Join(bin, "nst-ipam"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeIPAM("v1")
	network := "nstcache" + nstest.Rand(6)
	conf := direct(t, network, nil, map[string]any{"ipam": map[string]any{"type": "nst-ipam"}})
	record := sha256.Sum256([]byte(fmt.Sprintf("%d:%s", len(network), network)))
	t.Cleanup(func() { os.Remove("/run/netsteer/ipam-status-" + hex.EncodeToString(record[:])[:16]) })
	env := map[string]string{"CNI_COMMAND": "STATUS", "CNI_PATH": bin + ":" + node.Bin}
	status := func() (string, error) {
		out, _, err := node.RunPlugin(t, "vethbridge", env, conf)
		return out, err
	}
	runs := func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "STATUS")
	}
	for i := 0; i < 3; i++ {
		if out, err := status(); err != nil {
			t.Fatalf("STATUS %d: %v %s", i, err, out)
		}
	}
	if got := runs(); got != 1 {
		t.Errorf("three STATUS calls ran IPAM STATUS %d times, want 1", got)
	}

	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	addEnv := cniEnv("ADD", "cache0", c.Path(), os.Getenv("PATH"))
	addEnv["CNI_PATH"] = env["CNI_PATH"]
	if out, _, err := node.RunPlugin(t, "vethbridge", addEnv, conf); err == nil {
		t.Fatalf("ADD with a broken IPAM succeeded: %s", out)
	}
	for i := 0; i < 2; i++ {
		out, err := status()
		if err == nil || !strings.Contains(out, `"code": 50`) || !strings.Contains(out, "nst fake IPAM is broken") {
			t.Fatalf("STATUS %d after a failed ADD = %v %s, want code 50 with IPAM's message", i, err, out)
		}
	}
	if got := runs(); got != 3 {
		t.Errorf("IPAM STATUS ran %d times, want 3: every failing STATUS asks IPAM", got)
	}

	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	if out, err := status(); err != nil {
		t.Fatalf("STATUS after IPAM recovered: %v %s", err, out)
	}
	time.Sleep(10 * time.Millisecond) // a modification time the replaced binary cannot share
	writeIPAM("v2")
	if out, err := status(); err != nil {
		t.Fatalf("STATUS with a replaced IPAM binary: %v %s", err, out)
	}
	if got := runs(); got != 5 {
		t.Errorf("IPAM STATUS ran %d times, want 5: a replaced binary is asked again", got)
	}
}

// TestAutoBackendFlipLeavesOneRuleSet flips the auto backend between
// ADDs by taking the iptables binaries off PATH and putting them back:
// the ADD, DEL or GC that runs with the other backend removes the
// network's rules from the backend it left.
func TestAutoBackendFlipLeavesOneRuleSet(t *testing.T) {
	node := nstest.NewNode(t)
	nftOnly := pathWith(t, "nft")
	full := pathWith(t, "iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore", "nft")
	conf := direct(t, "flip", []string{"10.62.0.0/24"}, map[string]any{"ipMasqBackend": nil})
	backends := func() []string {
		seen := map[string]bool{}
		for _, r := range nstest.NetworkRules(node.Host.Rules(t, false), "flip") {
			if strings.HasPrefix(r, "nft ") {
				seen["nftables"] = true
			} else {
				seen["iptables"] = true
			}
		}
		var out []string
		for _, b := range []string{"iptables", "nftables"} {
			if seen[b] {
				out = append(out, b)
			}
		}
		return out
	}
	want := func(step string, b ...string) {
		t.Helper()
		if got := backends(); strings.Join(got, ",") != strings.Join(b, ",") {
			t.Fatalf("after %s the network has rules in %q, want %q:\n%s", step, got, b,
				strings.Join(nstest.NetworkRules(node.Host.Rules(t, false), "flip"), "\n"))
		}
	}
	verb := func(command, id string, c nstest.Netns, path string) {
		t.Helper()
		if out, stderr, err := node.RunPlugin(t, "vethbridge", cniEnv(command, id, c.Path(), path), conf); err != nil {
			t.Fatalf("%s %s: %v\n%s%s", command, id, err, out, stderr)
		}
	}
	pods := map[string]nstest.Netns{}
	add := func(id, path string) {
		t.Helper()
		pods[id] = nstest.NewNetns(t, "c")
		t.Cleanup(func() { _, _, _ = node.RunPlugin(t, "vethbridge", cniEnv("DEL", id, pods[id].Path(), full), conf) })
		verb("ADD", id, pods[id], path)
	}

	add("flip0", nftOnly)
	want("an ADD without iptables", "nftables")
	add("flip1", full)
	want("an ADD with iptables", "iptables")

	// Without the binaries nothing can list iptables' rules: they stay
	// until a run with the binaries removes the other backend's.
	add("flip2", nftOnly)
	verb("DEL", "flip2", pods["flip2"], full)
	want("a DEL with iptables", "iptables")

	add("flip3", nftOnly)
	gc := direct(t, "flip", []string{"10.62.0.0/24"}, map[string]any{"ipMasqBackend": nil,
		"cni.dev/valid-attachments": []map[string]string{{"containerID": "flip0", "ifname": "eth0"},
			{"containerID": "flip1", "ifname": "eth0"}, {"containerID": "flip3", "ifname": "eth0"}}})
	if out, stderr, err := node.RunPlugin(t, "vethbridge", map[string]string{"CNI_COMMAND": "GC", "PATH": full}, gc); err != nil {
		t.Fatalf("GC: %v\n%s%s", err, out, stderr)
	}
	want("a GC with iptables", "iptables")
}
