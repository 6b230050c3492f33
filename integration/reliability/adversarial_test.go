//go:build integration

package reliability

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netsteer/netsteer/integration/nstest"
)

// The adversarial suite of issue 9: inputs an operator's mistake or a
// compromised runtime could hand the plugin, by class. Every refusal must
// carry its documented code and a message naming the key and the value,
// come within a hard timeout, and leave the node and the container as they
// were (links, addresses, routes, netfilter rules, the relevant /proc/sys
// and the IPAM store). Cases that must succeed instead (deduplicated size
// bombs, globs over unsettable keys) assert what they set.

// callTimeout bounds one plugin call. A refusal takes milliseconds; this
// is only a guard against a hang (a FIFO, an endless expansion).
const callTimeout = 20 * time.Second

// runBounded runs one plugin call in the node's host netns, killing it
// and failing the test if it outlives callTimeout.
func runBounded(t *testing.T, node *nstest.Node, plugin string, e map[string]string, stdin string) (stdout, stderr string, err error, took time.Duration) {
	t.Helper()
	start := time.Now()
	p := node.StartPlugin(t, plugin, e, stdin)
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(callTimeout):
		_ = p.Cmd.Process.Kill()
		<-done
		t.Fatalf("%s %s still running after %v", plugin, e["CNI_COMMAND"], callTimeout)
	}
	took = time.Since(start)
	p.WaitGroup(t)
	return p.Stdout.String(), p.Stderr.String(), err, took
}

// advSysctls are the /proc/sys files a refused sysctl case could have
// touched, read in both namespaces. The cases write only values these
// files already hold on a fresh namespace ("0", "NONE"), so even a
// regression that let one through would change nothing outside the test.
var advSysctls = []string{"net/netfilter/nf_hooks_lwtunnel", "net/netfilter/nf_log/2", "net/ipv4/tcp_keepalive_time"}

func advSnapshot(t *testing.T, node *nstest.Node, c nstest.Netns) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(snapshot(t, node, c))
	for _, ns := range []nstest.Netns{node.Host, c} {
		for _, k := range advSysctls {
			fmt.Fprintf(&b, "%s %s=%s", ns.Name, k, ns.Sysctl(t, k))
		}
	}
	return b.String()
}

// advCase is one hostile input and what the plugin must answer.
type advCase struct {
	class int // the class of issue 9
	name  string
	conf  func(map[string]any)
	env   map[string]string
	// prep changes the node before the snapshot (a link of the node's own).
	prep     func(t *testing.T, node *nstest.Node)
	wantCode int
	wantMsg  []string
}

func ipamSubnet(s string) func(map[string]any) {
	return func(m map[string]any) {
		ipam := m["ipam"].(map[string]any)
		ipam["ranges"] = [][]map[string]string{{{"subnet": s}}}
	}
}

func nodeLink(name, addr string) func(t *testing.T, node *nstest.Node) {
	return func(t *testing.T, node *nstest.Node) {
		node.Host.Exec(t, "ip", "link", "add", name, "type", "veth", "peer", "name", name+"p")
		if addr != "" {
			node.Host.Exec(t, "ip", "addr", "add", addr, "dev", name)
		}
		t.Cleanup(func() { _, _ = node.Host.TryExec("ip", "link", "del", name) })
	}
}

// manyStrings is n distinct strings, the i-th made by f(i).
func manyStrings(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func manySysctls(n int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("net.ipv4.conf.e%d.rp_filter", i)] = "1"
	}
	return m
}

func adversarialCases() []advCase {
	ifname := func(v string) map[string]string { return map[string]string{"CNI_IFNAME": v} }
	return []advCase{
		// 1: names that mean something else downstream
		{class: 1, name: "bridge + (iptables: any interface)", conf: set("bridge", "+"), wantCode: 7, wantMsg: []string{`"bridge"`, `"+"`}},
		{class: 1, name: "bridge with trailing + (iptables prefix)", conf: set("bridge", "nstbr+"), wantCode: 7, wantMsg: []string{`"bridge"`, "nstbr+"}},
		{class: 1, name: "bridge %d (kernel numbering)", conf: set("bridge", "rtb%d"), wantCode: 7, wantMsg: []string{`"bridge"`, "rtb%d"}},
		{class: 1, name: "bridge all (a /proc/sys conf entry)", conf: set("bridge", "all"), wantCode: 7, wantMsg: []string{`"bridge"`, `"all"`}},
		{class: 1, name: "bridge default (a /proc/sys conf entry)", conf: set("bridge", "default"), wantCode: 7, wantMsg: []string{`"bridge"`, `"default"`}},
		{class: 1, name: "bridge with glob", conf: set("bridge", "br*"), wantCode: 7, wantMsg: []string{`"bridge"`, "br*"}},
		{class: 1, name: "bridge with !", conf: set("bridge", "!br0"), wantCode: 7, wantMsg: []string{`"bridge"`, "!br0"}},
		{class: 1, name: "bridge non-ASCII", conf: set("bridge", "brü"), wantCode: 7, wantMsg: []string{`"bridge"`}},
		{class: 1, name: "CNI_IFNAME + ", env: ifname("eth+"), wantCode: 4, wantMsg: []string{"CNI_IFNAME", "eth+"}},
		{class: 1, name: "CNI_IFNAME all", env: ifname("all"), wantCode: 4, wantMsg: []string{"CNI_IFNAME", `"all"`}},
		{class: 1, name: "CNI_IFNAME %d", env: ifname("eth%d"), wantCode: 4, wantMsg: []string{"CNI_IFNAME", "eth%d"}},

		// 3: sysctls with an effect beyond the pod's netns
		{class: 3, name: "sysctl nf_hooks_lwtunnel", conf: sysctlConf("net.netfilter.nf_hooks_lwtunnel", "0"), wantCode: 7, wantMsg: []string{"net.netfilter.nf_hooks_lwtunnel", "node-wide"}},
		{class: 3, name: "sysctl nf_hooks_lwtunnel slashed", conf: sysctlConf("net/netfilter/nf_hooks_lwtunnel", "0"), wantCode: 7, wantMsg: []string{"net/netfilter/nf_hooks_lwtunnel", "node-wide"}},
		{class: 3, name: "sysctl nf_log (module load)", conf: sysctlConf("net.netfilter.nf_log.2", "NONE"), wantCode: 7, wantMsg: []string{"net.netfilter.nf_log.2", "node-wide"}},
		{class: 3, name: "sysctl host-only rmem_max", conf: sysctlConf("net.core.rmem_max", "1"), wantCode: 7, wantMsg: []string{"net.core.rmem_max", "host's network namespace"}},
		{class: 3, name: "sysctl host-only tcp_mem", conf: sysctlConf("net.ipv4.tcp_mem", "1 2 3"), wantCode: 7, wantMsg: []string{"net.ipv4.tcp_mem"}},
		{class: 3, name: "inheritSysctls literal nf_hooks_lwtunnel", conf: set("inheritSysctls", []string{"net.netfilter.nf_hooks_lwtunnel"}), wantCode: 7, wantMsg: []string{"inheritSysctls", "nf_hooks_lwtunnel"}},
		{class: 3, name: "per-pod nf_hooks_lwtunnel through a broad allowlist", conf: func(m map[string]any) {
			m["allowedPodSysctls"] = []string{"net.*"}
			m["args"] = map[string]any{"cni": map[string]any{"sysctl": map[string]string{"net.netfilter.nf_hooks_lwtunnel": "0"}}}
		}, wantCode: 7, wantMsg: []string{"args.cni.sysctl", "nf_hooks_lwtunnel"}},

		// 4: subnets that cannot be a pod subnet
		{class: 4, name: "subnet 0.0.0.0/0 with ipMasq", conf: ipamSubnet("0.0.0.0/0"), wantCode: 7, wantMsg: []string{"ipam.ranges[0][0].subnet", "0.0.0.0/0"}},
		{class: 4, name: "subnet 0.0.0.0/1", conf: ipamSubnet("0.0.0.0/1"), wantCode: 7, wantMsg: []string{"ipam.ranges[0][0].subnet", "0.0.0.0/1"}},
		{class: 4, name: "subnet ::/0", conf: ipamSubnet("::/0"), wantCode: 7, wantMsg: []string{"ipam.ranges[0][0].subnet", "::/0"}},
		{class: 4, name: "subnet IPv4-mapped", conf: ipamSubnet("::ffff:10.97.0.0/120"), wantCode: 7, wantMsg: []string{"ipam.ranges[0][0].subnet", "::ffff:10.97.0.0/120", "IPv4-mapped"}},
		{class: 4, name: "subnet loopback", conf: ipamSubnet("127.0.0.0/24"), wantCode: 7, wantMsg: []string{"127.0.0.0/24", "loopback"}},
		{class: 4, name: "subnet multicast", conf: ipamSubnet("239.1.0.0/16"), wantCode: 7, wantMsg: []string{"239.1.0.0/16", "multicast"}},
		{class: 4, name: "subnet holding the node's own address", prep: nodeLink("nstadv0", "10.97.5.1/24"), conf: ipamSubnet("10.97.0.0/16"),
			wantCode: 7, wantMsg: []string{"ipam.ranges[0][0].subnet", "10.97.0.0/16", "10.97.5.1 on nstadv0"}},
		{class: 4, name: "host-local subnet key 0.0.0.0/0", conf: func(m map[string]any) {
			m["ipam"] = map[string]any{"type": "host-local", "dataDir": "DATADIR/adv", "subnet": "0.0.0.0/0"}
		}, wantCode: 7, wantMsg: []string{"ipam.subnet", "0.0.0.0/0"}},

		// 8: unbounded work, refused past the documented limits
		{class: 8, name: "65 distinct inheritSysctls patterns", conf: set("inheritSysctls", manyStrings(65, func(i int) string { return fmt.Sprintf("net.ipv4.tcp_keepalive_%d*", i) })), wantCode: 7, wantMsg: []string{"inheritSysctls", "65 distinct", "at most 64"}},
		{class: 8, name: "257 sysctl keys", conf: set("sysctl", manySysctls(257)), wantCode: 7, wantMsg: []string{`"sysctl"`, "257 distinct", "at most 256"}},
		{class: 8, name: "257 noMasqueradeCIDRs", conf: set("noMasqueradeCIDRs", manyStrings(257, func(i int) string { return fmt.Sprintf("10.%d.%d.0/24", i/256, i%256) })), wantCode: 7, wantMsg: []string{"noMasqueradeCIDRs", "257 distinct", "at most 256"}},
		{class: 8, name: "257 allowedPodSysctls", conf: set("allowedPodSysctls", manyStrings(257, func(i int) string { return fmt.Sprintf("net.ipv4.x%d", i) })), wantCode: 7, wantMsg: []string{"allowedPodSysctls", "257 distinct"}},
		{class: 8, name: "65 IPAM ranges", conf: func(m map[string]any) {
			var ranges [][]map[string]string
			for _, s := range manyStrings(65, func(i int) string { return fmt.Sprintf("10.98.%d.0/24", i) }) {
				ranges = append(ranges, []map[string]string{{"subnet": s}})
			}
			m["ipam"].(map[string]any)["ranges"] = ranges
		}, wantCode: 7, wantMsg: []string{"ipam", "65 subnets"}},

		// 9: late refusals and wrong codes
		{class: 9, name: "CNI_IFNAME a..b", env: ifname("a..b"), wantCode: 4, wantMsg: []string{"CNI_IFNAME", "a..b"}},
		{class: 9, name: "bridge lo (existing non-bridge)", conf: set("bridge", "lo"), wantCode: 7, wantMsg: []string{`"bridge"`, `"lo"`}},
		{class: 9, name: "bridge is an existing veth of the node", prep: nodeLink("nstnb0", ""), conf: set("bridge", "nstnb0"), wantCode: 7, wantMsg: []string{`"bridge"`, "nstnb0", "veth", "not a bridge"}},
		{class: 9, name: "inheritSysctls literal read-only key", conf: set("inheritSysctls", []string{"net.ipv4.tcp_available_congestion_control"}), wantCode: 7, wantMsg: []string{"inheritSysctls", "tcp_available_congestion_control", "read-only"}},
		{class: 9, name: "inheritSysctls literal absent key", conf: set("inheritSysctls", []string{"net.ipv4.tcp_nst_absent"}), wantCode: 7, wantMsg: []string{"inheritSysctls", "net.ipv4.tcp_nst_absent", "matched no sysctls"}},
		{class: 9, name: "inheritSysctls glob matching only unsettable keys", conf: set("inheritSysctls", []string{"net.ipv4.tcp_available_*"}), wantCode: 7, wantMsg: []string{"inheritSysctls", "net.ipv4.tcp_available_*"}},
	}
}

func TestAdversarialInputIsRefusedEarlyAndChangesNothing(t *testing.T) {
	good := network{Name: "adv", Bridge: "nstbradv", Subnet: "10.97.0.0/24"}
	node := nstest.NewNode(t)
	leaks := nstest.WatchLeaks(t, node, good.Name)
	c := leaks.Netns(t, "adv")
	cases := adversarialCases()
	perClass := map[int]int{}
	var slowest time.Duration
	// A case's "after" is the next case's "before" unless prep changes the
	// node (or the case failed): snapshots fork ip and iptables-save, the
	// slowest part of the test.
	var last string
	for _, tc := range cases {
		t.Run(fmt.Sprintf("class %d: %s", tc.class, tc.name), func(t *testing.T) {
			before := last
			last = ""
			if tc.prep != nil {
				tc.prep(t, node)
				before = ""
			}
			if before == "" {
				before = advSnapshot(t, node, c)
			}
			conf := good.plugin()
			conf["cniVersion"], conf["name"] = good.version(), good.Name
			if tc.conf != nil {
				tc.conf(conf)
			}
			e := env("ADD", "adv-1", c.Path())
			for k, v := range tc.env {
				e[k] = v
			}
			stdout, stderr, err, took := runBounded(t, node, "vethbridge", e, mustJSON(conf))
			slowest = max(slowest, took)
			if err == nil {
				t.Fatalf("ADD succeeded, want code %d\nstdout: %s", tc.wantCode, stdout)
			}
			ce := parseError(t, stdout)
			if ce.Code != tc.wantCode {
				t.Errorf("code %d (%s), want %d\nstderr: %s", ce.Code, ce.text(), tc.wantCode, stderr)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(ce.text(), w) {
					t.Errorf("message %q does not name %q", ce.text(), w)
				}
			}
			after := advSnapshot(t, node, c)
			if after != before {
				t.Fatalf("refused input changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if tc.prep == nil {
				last = after
			}
			perClass[tc.class]++
		})
	}
	leaks.Check(t)
	var summary []string
	for _, class := range slices.Sorted(maps.Keys(perClass)) {
		summary = append(summary, fmt.Sprintf("class %d: %d", class, perClass[class]))
	}
	t.Logf("adversarial inputs refused with code, key and value, node unchanged: %d of %d (%s); slowest refusal %v",
		len(cases), len(cases), strings.Join(summary, ", "), slowest.Round(time.Millisecond))
}

// TestSizeBombsAreDeduplicated: the 731 KB config repeating one
// inheritSysctls glob 43,000 times is refused by its size before it is
// parsed (code 7); the most copies that fit under the limit, of a glob or
// of a noMasqueradeCIDRs entry, are one entry each: ADD succeeds in about
// the time of a single copy, and the network gets one exemption rule.
func TestSizeBombsAreDeduplicated(t *testing.T) {
	nw := network{Name: "bomb", Bridge: "nstbrbomb", Subnet: "10.99.0.0/24"}
	node := nstest.NewNode(t)
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	c := leaks.Netns(t, "bomb")
	node.Host.SetSysctl(t, "net/ipv4/tcp_keepalive_time", "611")

	conf := nw.plugin()
	conf["cniVersion"], conf["name"] = nw.version(), nw.Name
	conf["inheritSysctls"] = slices.Repeat([]string{"net.ipv4.tcp_*"}, 43000)
	stdin := mustJSON(conf)
	before := advSnapshot(t, node, c)
	stdout, _, err, took := runBounded(t, node, "vethbridge", env("ADD", "bomb-1", c.Path()), stdin)
	if ce := parseError(t, stdout); err == nil || ce.Code != 7 || !strings.Contains(ce.text(), "larger than") {
		t.Errorf("ADD of the %d KB bomb = %v %+v, want code 7 naming the size", len(stdin)/1024, err, ce)
	}
	if after := advSnapshot(t, node, c); after != before {
		t.Errorf("refused bomb changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	t.Logf("ADD of a %d KB config with 43,000 x inheritSysctls \"net.ipv4.tcp_*\" refused in %v", len(stdin)/1024, took.Round(time.Millisecond))

	for _, bomb := range []struct {
		key, entry string
		check      func(t *testing.T)
	}{
		{"inheritSysctls", "net.ipv4.tcp_*", func(t *testing.T) {
			if got := strings.TrimSpace(c.Sysctl(t, "net/ipv4/tcp_keepalive_time")); got != "611" {
				t.Errorf("container tcp_keepalive_time = %q, want the node's 611 inherited through the glob", got)
			}
		}},
		{"noMasqueradeCIDRs", "10.200.0.0/16", func(t *testing.T) {
			var exempt int
			for _, l := range networkRules(t, node, nw) {
				if strings.Contains(l, "10.200.0.0/16") {
					exempt++
				}
			}
			if exempt != 1 {
				t.Errorf("%d rules name 10.200.0.0/16, want 1 (copies deduplicated)", exempt)
			}
		}},
	} {
		t.Run(bomb.key, func(t *testing.T) {
			// The same ADD with one copy first, as the figure to compare with.
			var took [2]time.Duration
			var size int
			for i, copies := range []int{1, 15000} {
				conf := nw.plugin()
				conf["cniVersion"], conf["name"] = nw.version(), nw.Name
				conf[bomb.key] = slices.Repeat([]string{bomb.entry}, copies)
				stdin := mustJSON(conf)
				size = len(stdin)
				stdout, stderr, err, d := runBounded(t, node, "vethbridge", env("ADD", "bomb-1", c.Path()), stdin)
				if err != nil {
					t.Fatalf("ADD with %d copies: %v\nstdout: %s\nstderr: %s", copies, err, stdout, stderr)
				}
				took[i] = d
				bomb.check(t)
				if _, _, err, _ := runBounded(t, node, "vethbridge", env("DEL", "bomb-1", c.Path()), stdin); err != nil {
					t.Fatalf("DEL: %v", err)
				}
			}
			t.Logf("ADD of a %d KB config with 15,000 x %s %q took %v (one copy: %v)",
				size/1024, bomb.key, bomb.entry, took[1].Round(time.Millisecond), took[0].Round(time.Millisecond))
		})
	}
	leaks.Check(t)
}

// TestInheritGlobOverUnsettableKeys: "net.ipv4.tcp_*" matches read-only
// keys (tcp_available_congestion_control, ...). The glob skips them and
// ADD succeeds (it used to fail with code 100 half-way); the settable keys
// arrive with the node's values.
func TestInheritGlobOverUnsettableKeys(t *testing.T) {
	nw := network{Name: "glob", Bridge: "nstbrglob", Subnet: "10.99.1.0/24",
		Extra: map[string]any{"inheritSysctls": []string{"net.ipv4.tcp_*", "net.netfilter.nf_*"}}}
	node := nstest.NewNode(t)
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	c := leaks.Netns(t, "glob")
	node.Host.SetSysctl(t, "net/ipv4/tcp_fin_timeout", "41")
	hooks := c.Sysctl(t, "net/netfilter/nf_hooks_lwtunnel")
	stdout, stderr, err, took := runBounded(t, node, "vethbridge", env("ADD", "glob-1", c.Path()), nw.conf())
	if err != nil {
		t.Fatalf("ADD: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if got := strings.TrimSpace(c.Sysctl(t, "net/ipv4/tcp_fin_timeout")); got != "41" {
		t.Errorf("container tcp_fin_timeout = %q, want the node's 41", got)
	}
	if got := c.Sysctl(t, "net/netfilter/nf_hooks_lwtunnel"); got != hooks {
		t.Errorf("nf_hooks_lwtunnel = %q after ADD, was %q: the glob wrote a node-wide key", got, hooks)
	}
	mustRun(t, node, nw, "DEL", "glob-1", c.Path())
	leaks.Check(t)
	t.Logf("ADD inheriting net.ipv4.tcp_* and net.netfilter.nf_* took %v", took.Round(time.Millisecond))
}

// TestCheckBoundsPrevResult: the CHECK with a prevResult repeating
// the pod's IP 15,000 times is refused with code 7 before any netfilter
// call (by the config size limit; 3,000 copies by the IP count); the same
// IP repeated within the bound is checked once per subnet and passes.
func TestCheckBoundsPrevResult(t *testing.T) {
	nw := network{Name: "chk", Bridge: "nstbrchk", Subnet: "10.99.2.0/24"}
	node := nstest.NewNode(t)
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	c := leaks.Netns(t, "chk")
	out := mustRun(t, node, nw, "ADD", "chk-1", c.Path())
	var prev map[string]any
	if err := json.Unmarshal([]byte(out), &prev); err != nil {
		t.Fatal(err)
	}
	ip := prev["ips"].([]any)[0]
	check := func(n int) (cniError, error, time.Duration, int) {
		p := map[string]any{}
		for k, v := range prev {
			p[k] = v
		}
		p["ips"] = slices.Repeat([]any{ip}, n)
		conf := nw.plugin()
		conf["cniVersion"], conf["name"], conf["prevResult"] = nw.version(), nw.Name, p
		stdin := mustJSON(conf)
		stdout, _, err, took := runBounded(t, node, "vethbridge", env("CHECK", "chk-1", c.Path()), stdin)
		var ce cniError
		if err != nil {
			ce = parseError(t, stdout)
		}
		return ce, err, took, len(stdin)
	}
	rules := networkRules(t, node, nw)
	for _, bomb := range []struct {
		ips  int
		want []string
	}{
		{15000, []string{"larger than"}},           // the 975 KB prevResult
		{3000, []string{"prevResult.ips", "3000"}}, // under the size limit, over the count
	} {
		ce, err, took, size := check(bomb.ips)
		if err == nil || ce.Code != 7 {
			t.Errorf("CHECK with %d IPs = %v %+v, want code 7", bomb.ips, err, ce)
		}
		for _, w := range bomb.want {
			if !strings.Contains(ce.text(), w) {
				t.Errorf("CHECK with %d IPs: message %q does not name %q", bomb.ips, ce.text(), w)
			}
		}
		t.Logf("CHECK with a %d KB prevResult (%d IPs) refused in %v", size/1024, bomb.ips, took.Round(time.Millisecond))
	}
	if ce, err, took, _ := check(64); err != nil {
		t.Errorf("CHECK with the pod's IP 64 times = %v %+v, want success", err, ce)
	} else {
		t.Logf("CHECK with the pod's IP 64 times passed in %v", took.Round(time.Millisecond))
	}
	if got := networkRules(t, node, nw); !slices.Equal(got, rules) {
		t.Errorf("CHECK changed the network's rules:\n%s\nwant:\n%s", got, rules)
	}
	mustRun(t, node, nw, "DEL", "chk-1", c.Path())
	leaks.Check(t)
}
