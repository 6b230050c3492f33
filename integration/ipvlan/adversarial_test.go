//go:build vm

package ipvlan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/integration/nstest"
	"github.com/netsteer/netsteer/pkg/nlx"
)

// The ipvlan half of issue 9's adversarial suite (the vethbridge half is
// integration/reliability/adversarial_test.go): each hostile input is
// refused with its documented code, a message naming the key and value,
// within a hard timeout, and with the node and the container unchanged.

const advTimeout = 20 * time.Second

// advRun runs bin/ipvlan in the node netns with env on top of inv's
// environment, killing it if it outlives advTimeout.
func (n *node) advRun(t *testing.T, inv invocation, env map[string]string, conf []byte) (stdout string, err error, took time.Duration) {
	t.Helper()
	cmd := n.command(inv, conf)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v) // the last value of a key wins
	}
	start := time.Now()
	p := nstest.StartIn(t, n.ns.do, cmd)
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(advTimeout):
		_ = p.Cmd.Process.Kill()
		<-done
		t.Fatalf("ipvlan %s still running after %v", inv.command, advTimeout)
	}
	took = time.Since(start)
	p.WaitGroup(t)
	return p.Stdout.String(), err, took
}

// advState is what a refused call must leave as it was: links, addresses
// and routes of the node and the container (read through netlink: the VM
// is slow to fork ip), the sysctls a refused case names, and host-local's
// reservations.
func advState(t *testing.T, n *node, c *namespace) string {
	t.Helper()
	var b strings.Builder
	for _, ns := range []*namespace{n.ns, c} {
		err := ns.withHandle(func(h *netlink.Handle) error {
			links, err := nlx.RetryDump(h.LinkList)
			if err != nil {
				return err
			}
			for _, l := range links {
				a := l.Attrs()
				fmt.Fprintf(&b, "%s link %d %s %s flags=%v master=%d parent=%d alias=%q mtu=%d\n",
					ns.Name, a.Index, a.Name, l.Type(), a.Flags, a.MasterIndex, a.ParentIndex, a.Alias, a.MTU)
			}
			addrs, err := nlx.RetryDump(func() ([]netlink.Addr, error) { return h.AddrList(nil, netlink.FAMILY_ALL) })
			if err != nil {
				return err
			}
			for _, a := range addrs {
				fmt.Fprintf(&b, "%s addr %d %s\n", ns.Name, a.LinkIndex, a.IPNet)
			}
			routes, err := nlx.RetryDump(func() ([]netlink.Route, error) { return h.RouteList(nil, netlink.FAMILY_ALL) })
			if err != nil {
				return err
			}
			for _, r := range routes {
				fmt.Fprintf(&b, "%s route %s\n", ns.Name, r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"net/netfilter/nf_hooks_lwtunnel", "net/ipv4/tcp_keepalive_time"} {
			fmt.Fprintf(&b, "%s %s=%s\n", ns.Name, k, ns.sysctl(t, k))
		}
	}
	fmt.Fprintf(&b, "reservations %v\n", nstest.HostLocalReservations(t, n.dataDir))
	return b.String()
}

func TestAdversarialInputIsRefusedEarly(t *testing.T) {
	n := newNode(t)
	list := n.network(t, netOpts{name: "nstadv", subnet: "10.41.0.0/24"})
	c := newNamespace(t, "c")
	set := func(k string, v any) map[string]any { return map[string]any{k: v} }
	ipamSubnet := func(s string) map[string]any {
		return set("ipam", map[string]any{"type": "host-local", "dataDir": n.dataDir, "ranges": [][]map[string]string{{{"subnet": s}}}})
	}
	var many []string
	for i := 0; i < 65; i++ {
		many = append(many, fmt.Sprintf("net.ipv4.tcp_keepalive_%d*", i))
	}
	cases := []struct {
		class int
		name  string
		extra map[string]any
		env   map[string]string
		code  int
		want  []string
	}{
		{1, "master + (iptables: any interface)", set("master", "+"), nil, 7, []string{`"master"`, `"+"`}},
		{1, "master with trailing +", set("master", "nstm+"), nil, 7, []string{`"master"`, "nstm+"}},
		{1, "master %d", set("master", "nstm%d"), nil, 7, []string{`"master"`, "nstm%d"}},
		{1, "master all", set("master", "all"), nil, 7, []string{`"master"`, `"all"`}},
		{1, "master default", set("master", "default"), nil, 7, []string{`"master"`, `"default"`}},
		{1, "master lo", set("master", "lo"), nil, 7, []string{`"master"`, `"lo"`}},
		{1, "CNI_IFNAME +", nil, map[string]string{"CNI_IFNAME": "eth+"}, 4, []string{"CNI_IFNAME", "eth+"}},
		{1, "CNI_IFNAME all", nil, map[string]string{"CNI_IFNAME": "all"}, 4, []string{"CNI_IFNAME", `"all"`}},
		{3, "sysctl nf_hooks_lwtunnel", set("sysctl", map[string]string{"net.netfilter.nf_hooks_lwtunnel": "1"}), nil, 7, []string{"net.netfilter.nf_hooks_lwtunnel", "node-wide"}},
		{3, "sysctl nf_log", set("sysctl", map[string]string{"net.netfilter.nf_log.2": "NONE"}), nil, 7, []string{"net.netfilter.nf_log.2", "node-wide"}},
		{3, "sysctl host-only rmem_max", set("sysctl", map[string]string{"net.core.rmem_max": "1"}), nil, 7, []string{"net.core.rmem_max"}},
		{3, "inheritSysctls literal nf_hooks_lwtunnel", set("inheritSysctls", []string{"net.netfilter.nf_hooks_lwtunnel"}), nil, 7, []string{"inheritSysctls", "nf_hooks_lwtunnel"}},
		{4, "subnet 0.0.0.0/0", ipamSubnet("0.0.0.0/0"), nil, 7, []string{"ipam.ranges[0][0].subnet", "0.0.0.0/0"}},
		{4, "subnet ::/0", ipamSubnet("::/0"), nil, 7, []string{"ipam.ranges[0][0].subnet", "::/0"}},
		{4, "subnet IPv4-mapped", ipamSubnet("::ffff:10.41.0.0/120"), nil, 7, []string{"::ffff:10.41.0.0/120", "IPv4-mapped"}},
		{4, "subnet loopback", ipamSubnet("127.0.0.0/24"), nil, 7, []string{"127.0.0.0/24", "loopback"}},
		{8, "65 inheritSysctls patterns", set("inheritSysctls", many), nil, 7, []string{"inheritSysctls", "65 distinct"}},
		{8, "config over the size limit", set("inheritSysctls", slices.Repeat([]string{"net.ipv4.tcp_*"}, 43000)), nil, 7, []string{"larger than"}},
		{9, "CNI_IFNAME a..b", nil, map[string]string{"CNI_IFNAME": "a..b"}, 4, []string{"CNI_IFNAME", "a..b"}},
		{9, "inheritSysctls literal read-only key", set("inheritSysctls", []string{"net.ipv4.tcp_available_congestion_control"}), nil, 7, []string{"inheritSysctls", "read-only"}},
		{9, "inheritSysctls literal absent key", set("inheritSysctls", []string{"net.ipv4.tcp_nst_absent"}), nil, 7, []string{"inheritSysctls", "net.ipv4.tcp_nst_absent"}},
	}
	var slowest time.Duration
	for _, tc := range cases {
		t.Run(fmt.Sprintf("class %d: %s", tc.class, tc.name), func(t *testing.T) {
			conf := pluginConf(t, list, tc.extra)
			before := advState(t, n, c)
			stdout, err, took := n.advRun(t, invocation{command: "ADD", id: containerID(t, "adv"), netns: c.Path}, tc.env, conf)
			slowest = max(slowest, took)
			if err == nil {
				t.Fatalf("ADD succeeded, want code %d: %s", tc.code, stdout)
			}
			var ce struct {
				Code int    `json:"code"`
				Msg  string `json:"msg"`
			}
			if jerr := json.Unmarshal([]byte(stdout), &ce); jerr != nil || ce.Code != tc.code {
				t.Errorf("error = %s, want code %d", stdout, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(ce.Msg, w) {
					t.Errorf("message %q does not name %q", ce.Msg, w)
				}
			}
			if after := advState(t, n, c); after != before {
				t.Errorf("refused input changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	t.Logf("ipvlan adversarial inputs refused with code, key and value, node unchanged: %d; slowest refusal %v", len(cases), slowest.Round(time.Millisecond))
}

// TestCheckBoundsPrevResult: CHECK with a prevResult repeating the pod's
// IP 3,000 times is refused with code 7 before it compares anything; 64
// copies pass.
func TestCheckBoundsPrevResult(t *testing.T) {
	n := newNode(t)
	list := n.network(t, netOpts{name: "nstchk", subnet: "10.42.0.0/24"})
	c := newNamespace(t, "c")
	id := containerID(t, "chk")
	inv := invocation{command: "ADD", id: id, netns: c.Path}
	out := n.mustRun(t, inv, pluginConf(t, list, nil))
	var prev map[string]any
	if err := json.Unmarshal([]byte(out), &prev); err != nil {
		t.Fatal(err)
	}
	ip := prev["ips"].([]any)[0]
	for _, tc := range []struct {
		copies int
		ok     bool
	}{{3000, false}, {64, true}} {
		p := map[string]any{}
		for k, v := range prev {
			p[k] = v
		}
		p["ips"] = slices.Repeat([]any{ip}, tc.copies)
		stdout, err, took := n.advRun(t, invocation{command: "CHECK", id: id, netns: c.Path}, nil, pluginConf(t, list, map[string]any{"prevResult": p}))
		switch {
		case tc.ok && err != nil:
			t.Errorf("CHECK with %d copies of the IP = %v %s, want success", tc.copies, err, stdout)
		case !tc.ok && (err == nil || !strings.Contains(stdout, `"code": 7`) || !strings.Contains(stdout, "prevResult.ips")):
			t.Errorf("CHECK with %d copies of the IP = %v %s, want code 7 naming prevResult.ips", tc.copies, err, stdout)
		}
		t.Logf("CHECK with %d copies of the pod's IP: %v in %v", tc.copies, err, took.Round(time.Millisecond))
	}
	n.mustRun(t, invocation{command: "DEL", id: id, netns: c.Path}, pluginConf(t, list, nil))
}
