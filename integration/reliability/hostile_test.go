//go:build integration

package reliability

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// hostileCase is one input the plugin must refuse: with code, with a
// message naming what is wrong, and without changing anything.
type hostileCase struct {
	name string
	// conf edits the good network config (nil: unchanged); raw, when set,
	// replaces the whole stdin.
	conf func(map[string]any)
	raw  func() string
	// env overrides the good CNI environment; TMP in a value is a
	// directory holding an empty regular file nst-regular-file.
	env      map[string]string
	wantCode int
	wantMsg  string
}

func set(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

func sysctlConf(key, value string) func(map[string]any) {
	return set("sysctl", map[string]string{key: value})
}

// hostileCases extends integration/vethbridge's TestBadInputChangesNothing
// with the rest of the list.
func hostileCases(ncpu int) []hostileCase {
	huge := strings.Repeat("a", 1<<20)
	return []hostileCase{
		// sysctl keys
		{name: "sysctl key with encoded slashes", conf: sysctlConf("net%2fipv4%2fip_forward", "1"), wantCode: 7, wantMsg: "net%2fipv4%2fip_forward"},
		{name: "sysctl key with encoded slashes in a segment", conf: sysctlConf("net/ipv4/conf/eth0%2f..%2fall/forwarding", "1"), wantCode: 7, wantMsg: "eth0%2f..%2fall"},
		{name: "sysctl key absolute path", conf: sysctlConf("/proc/sys/net/ipv4/ip_forward", "1"), wantCode: 7, wantMsg: "/proc/sys/net/ipv4/ip_forward"},
		{name: "sysctl key with ..", conf: sysctlConf("net/../kernel/hostname", "x"), wantCode: 7, wantMsg: "net/../kernel/hostname"},
		{name: "sysctl key with .. in dotted form", conf: sysctlConf("net.ipv4.conf...all.forwarding", "1"), wantCode: 7, wantMsg: "net.ipv4.conf...all.forwarding"},
		{name: "sysctl key outside net (vm)", conf: sysctlConf("vm.swappiness", "1"), wantCode: 7, wantMsg: "vm.swappiness"},
		{name: "sysctl key outside net (fs)", conf: sysctlConf("fs/file-max", "1"), wantCode: 7, wantMsg: "fs/file-max"},
		{name: "sysctl key empty", conf: sysctlConf("", "1"), wantCode: 7, wantMsg: "sysctl"},
		{name: "sysctl key only net", conf: sysctlConf("net", "1"), wantCode: 7, wantMsg: `"net"`},
		{name: "sysctl value with newline", conf: sysctlConf("net.ipv4.tcp_keepalive_time", "600\nnet.ipv4.ip_forward=1"), wantCode: 7, wantMsg: "tcp_keepalive_time"},
		{name: "sysctl value with trailing newline", conf: sysctlConf("net.ipv4.tcp_keepalive_time", "600\n"), wantCode: 7, wantMsg: "tcp_keepalive_time"},
		{name: "sysctl value with NUL", conf: sysctlConf("net.ipv4.tcp_keepalive_time", "600\x00"), wantCode: 7, wantMsg: "tcp_keepalive_time"},
		{name: "inheritSysctls outside net", conf: set("inheritSysctls", []string{"kernel.*"}), wantCode: 7, wantMsg: "kernel.*"},
		{name: "inheritSysctls with ..", conf: set("inheritSysctls", []string{"net/../kernel/*"}), wantCode: 7, wantMsg: "net/../kernel/*"},
		{name: "allowedPodSysctls bad glob", conf: set("allowedPodSysctls", []string{"net.ipv4.["}), wantCode: 7, wantMsg: "net.ipv4.["},

		// interface names
		{name: "CNI_IFNAME with slash", env: map[string]string{"CNI_IFNAME": "eth/0"}, wantCode: 4, wantMsg: "eth/0"},
		{name: "CNI_IFNAME with space", env: map[string]string{"CNI_IFNAME": "eth 0"}, wantCode: 4, wantMsg: "eth 0"},
		{name: "CNI_IFNAME with leading dash", env: map[string]string{"CNI_IFNAME": "-eth0"}, wantCode: 4, wantMsg: "-eth0"},
		{name: "CNI_IFNAME over 15 bytes", env: map[string]string{"CNI_IFNAME": "eth0123456789abc"}, wantCode: 4, wantMsg: "eth0123456789abc"},
		{name: "CNI_IFNAME dot dot", env: map[string]string{"CNI_IFNAME": ".."}, wantCode: 4, wantMsg: `".."`},
		{name: "CNI_IFNAME with newline", env: map[string]string{"CNI_IFNAME": "eth0\nx"}, wantCode: 4, wantMsg: "CNI_IFNAME"},
		{name: "CNI_IFNAME with colon", env: map[string]string{"CNI_IFNAME": "eth0:1"}, wantCode: 4, wantMsg: "eth0:1"},
		{name: "bridge with slash", conf: set("bridge", "br/0"), wantCode: 7, wantMsg: "br/0"},
		{name: "bridge with space", conf: set("bridge", "br 0"), wantCode: 7, wantMsg: "br 0"},
		{name: "bridge with leading dash", conf: set("bridge", "-br0"), wantCode: 7, wantMsg: "-br0"},
		{name: "bridge over 15 bytes", conf: set("bridge", "nstbr0123456789a"), wantCode: 7, wantMsg: "nstbr0123456789a"},
		{name: "bridge with colon", conf: set("bridge", "br:0"), wantCode: 7, wantMsg: "br:0"},

		// CIDRs
		{name: "noMasqueradeCIDRs mask too long", conf: set("noMasqueradeCIDRs", []string{"10.0.0.0/33"}), wantCode: 7, wantMsg: "10.0.0.0/33"},
		{name: "noMasqueradeCIDRs v6 mask too long", conf: set("noMasqueradeCIDRs", []string{"fd00::/129"}), wantCode: 7, wantMsg: "fd00::/129"},
		{name: "noMasqueradeCIDRs without mask", conf: set("noMasqueradeCIDRs", []string{"10.0.0.1"}), wantCode: 7, wantMsg: "10.0.0.1"},
		{name: "noMasqueradeCIDRs empty string", conf: set("noMasqueradeCIDRs", []string{""}), wantCode: 7, wantMsg: "noMasqueradeCIDRs"},
		{name: "noMasqueradeCIDRs with rule injection", conf: set("noMasqueradeCIDRs", []string{"10.0.0.0/8 -j ACCEPT"}), wantCode: 7, wantMsg: "10.0.0.0/8 -j ACCEPT"},

		// RPS masks
		{name: "rps mask beyond the CPUs (hex)", conf: set("rps", map[string]any{"cpus": fmt.Sprintf("%x", 1<<ncpu)}), wantCode: 7, wantMsg: "rps.cpus"},
		{name: "rps mask beyond the CPUs (list)", conf: set("rps", map[string]any{"cpus": fmt.Sprintf("0-%d", ncpu)}), wantCode: 7, wantMsg: "rps.cpus"},
		{name: "rps mask beyond 32 CPUs (groups)", conf: set("rps", map[string]any{"cpus": "1,00000000"}), wantCode: 7, wantMsg: "rps.cpus"},
		{name: "rps negative flowCount", conf: set("rps", map[string]any{"cpus": "0", "flowCount": -1}), wantCode: 7, wantMsg: "rps.flowCount"},
		{name: "rps unknown key", conf: set("rps", map[string]any{"cpu": "0"}), wantCode: 7, wantMsg: "rps"},

		// size and types
		{name: "config over 1 MiB", conf: set("dns", map[string]any{"search": []string{huge}}), wantCode: 7, wantMsg: "larger than"},
		{name: "config over 1 MiB of white space", raw: func() string {
			return strings.Repeat(" ", 1<<20) + `{"cniVersion": "1.1.0", "name": "hostile", "type": "vethbridge"}`
		}, wantCode: 7, wantMsg: "larger than"},
		{name: "not JSON", raw: func() string { return "{" }, wantCode: 6, wantMsg: "unmarshal"},
		{name: "wrong type mtu", conf: set("mtu", "1500"), wantCode: 7, wantMsg: "mtu"},
		{name: "wrong type rps", conf: set("rps", "all"), wantCode: 7, wantMsg: "rps"},
		{name: "wrong type sysctl", conf: set("sysctl", []string{"net.ipv4.ip_forward=1"}), wantCode: 7, wantMsg: "sysctl"},
		{name: "wrong type noMasqueradeCIDRs", conf: set("noMasqueradeCIDRs", "10.0.0.0/8"), wantCode: 7, wantMsg: "noMasqueradeCIDRs"},
		{name: "wrong type bridge", conf: set("bridge", 5), wantCode: 7, wantMsg: "bridge"},
		{name: "wrong type args", conf: set("args", []string{"x"}), wantCode: 7, wantMsg: "args"},
		{name: "wrong type runtimeConfig", conf: set("runtimeConfig", "x"), wantCode: 7, wantMsg: "runtimeConfig"},
		{name: "mtu out of range", conf: set("mtu", 65536), wantCode: 7, wantMsg: "65536"},
		{name: "network name with colon", conf: set("name", "a:b"), wantCode: 7, wantMsg: "a:b"},
		{name: "network name with ..", conf: set("name", "../x"), wantCode: 7, wantMsg: "../x"},
		{name: "unsupported cniVersion", conf: set("cniVersion", "9.9.9"), wantCode: 1, wantMsg: "9.9.9"},

		// CNI_ARGS and the rest of the environment
		{name: "CNI_ARGS pair without =", env: map[string]string{"CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME"}, wantCode: 4, wantMsg: "CNI_ARGS"},
		{name: "CNI_ARGS multicast MAC", env: map[string]string{"CNI_ARGS": "MAC=01:00:5e:00:00:01"}, wantCode: 7, wantMsg: "01:00:5e:00:00:01"},
		{name: "CNI_ARGS MAC with shell", env: map[string]string{"CNI_ARGS": "MAC=$(reboot)"}, wantCode: 7, wantMsg: "$(reboot)"},
		{name: "CNI_ARGS over 4 KiB", env: map[string]string{"CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME=" + strings.Repeat("x", 5000)}, wantCode: 4, wantMsg: "CNI_ARGS"},
		{name: "CNI_CONTAINERID with slash", env: map[string]string{"CNI_CONTAINERID": "../ctr"}, wantCode: 4, wantMsg: "../ctr"},
		{name: "CNI_CONTAINERID with colon", env: map[string]string{"CNI_CONTAINERID": "a:b"}, wantCode: 4, wantMsg: "a:b"},
		{name: "CNI_CONTAINERID over 128 bytes", env: map[string]string{"CNI_CONTAINERID": strings.Repeat("c", 129)}, wantCode: 4, wantMsg: "CNI_CONTAINERID"},

		// CNI_NETNS that is not a netns
		{name: "CNI_NETNS regular file", env: map[string]string{"CNI_NETNS": "TMP/nst-regular-file"}, wantCode: 4, wantMsg: "nst-regular-file"},
		{name: "CNI_NETNS directory", env: map[string]string{"CNI_NETNS": "TMP"}, wantCode: 4, wantMsg: "not a network namespace"},
		{name: "CNI_NETNS own netns", env: map[string]string{"CNI_NETNS": "/proc/self/ns/net"}, wantCode: 4, wantMsg: "own (host) network namespace"},
		{name: "CNI_NETNS mount namespace", env: map[string]string{"CNI_NETNS": "/proc/self/ns/mnt"}, wantCode: 4, wantMsg: "/proc/self/ns/mnt"},
		{name: "CNI_NETNS missing", env: map[string]string{"CNI_NETNS": "/var/run/netns/nst-does-not-exist"}, wantCode: 4, wantMsg: "nst-does-not-exist"},
		{name: "CNI_NETNS empty", env: map[string]string{"CNI_NETNS": ""}, wantCode: 4, wantMsg: "CNI_NETNS"},
	}
}

func TestHostileInputIsRefusedAndChangesNothing(t *testing.T) {
	good := network{Name: "hostile", Bridge: "nstbrh", Subnet: "10.94.0.0/24"}
	cases := hostileCases(nstest.PossibleCPUs(t))
	// One node for every case: each compares its own before and after, and
	// a refused input must leave nothing for the next case to trip on.
	node := nstest.NewNode(t)
	leaks := nstest.WatchLeaks(t, node, good.Name)
	c := leaks.Netns(t, "hostile")
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "nst-regular-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf := good.plugin()
			conf["cniVersion"], conf["name"] = good.version(), good.Name
			if tc.conf != nil {
				tc.conf(conf)
			}
			stdin := mustJSON(conf)
			if tc.raw != nil {
				stdin = tc.raw()
			}
			e := env("ADD", "hostile-1", c.Path())
			for k, v := range tc.env {
				e[k] = strings.ReplaceAll(v, "TMP", tmp)
			}
			before := snapshot(t, node, c)
			stdout, _, err := node.RunPlugin(t, "vethbridge", e, stdin)
			if err == nil {
				t.Fatalf("ADD succeeded, want code %d", tc.wantCode)
			}
			if ce := parseError(t, stdout); ce.Code != tc.wantCode || !strings.Contains(ce.text(), tc.wantMsg) {
				t.Errorf("error = code %d %q (details %q), want code %d naming %q", ce.Code, ce.Msg, ce.Details, tc.wantCode, tc.wantMsg)
			}
			if after := snapshot(t, node, c); after != before {
				t.Errorf("refused input changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	t.Logf("hostile inputs tried=%d, each refused with its code and leaving the node and container unchanged", len(cases))
}

// TestIPAMSubnetOverlappingAHostRoute documents what happens when the
// pod subnet overlaps a route the node already has through another
// interface: it is accepted. host-local allocates from it, the bridge
// gets the gateway address, and the kernel then has two routes for the
// prefix. vethbridge does not refuse it because overlaps are often
// intended (a summary route to the cluster's pod CIDR through a router
// covers this node's own pod subnet) and telling the two apart needs the
// operator's intent. A pod subnet that contains one of the node's own
// addresses is refused instead (TestAdversarialInputIsRefusedEarlyAndChangesNothing),
// so the node's link here holds an address outside the pod subnet.
func TestIPAMSubnetOverlappingAHostRoute(t *testing.T) {
	node := nstest.NewNode(t)
	nw := network{Name: "overlap", Bridge: "nstbro", Subnet: "10.95.0.0/24"}
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	c := leaks.Netns(t, "overlap")
	// A link of the node's own (not a pod's) that routes the pod subnet.
	peer := leaks.Netns(t, "router")
	nstest.Run(t, "ip", "-n", node.Host.Name, "link", "add", "nstup0", "type", "veth", "peer", "name", "nstup1", "netns", peer.Name)
	nstest.Run(t, "ip", "-n", node.Host.Name, "addr", "add", "10.95.1.200/16", "dev", "nstup0")
	nstest.Run(t, "ip", "-n", node.Host.Name, "link", "set", "nstup0", "up")

	out := mustRun(t, node, nw, "ADD", "overlap-1", c.Path())
	var res struct {
		IPs []struct{ Address string } `json:"ips"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.IPs) != 1 || !strings.HasPrefix(res.IPs[0].Address, "10.95.0.") {
		t.Fatalf("ADD result = %s (%v), want an address from 10.95.0.0/24", out, err)
	}
	routes := nstest.Run(t, "ip", "-n", node.Host.Name, "route", "show")
	if !strings.Contains(routes, "10.95.0.0/24 dev nstbro") || !strings.Contains(routes, "10.95.0.0/16 dev nstup0") {
		t.Errorf("node routes = %s, want both the bridge's /24 and the link's /16", routes)
	}
	mustRun(t, node, nw, "DEL", "overlap-1", c.Path())
	node.Host.Exec(t, "ip", "link", "del", "nstup0") // the test's own link, not a leak
	leaks.Check(t)
}

// TestIPAMRefusalLeavesNothingOfTheAttachment: a host-local subnet that
// does not parse is refused by vethbridge before anything is made (code 7
// naming the key and the value; the node is unchanged, no bridge either).
// An IPAM section only the IPAM plugin can judge (a rangeStart outside
// its subnet) is refused by that plugin, after the network's bridge has
// been ensured: code 102 naming the value, nothing of the attachment left
// (veth, reservation, container interface); the bridge stays, as after any
// ADD and DEL.
func TestIPAMRefusalLeavesNothingOfTheAttachment(t *testing.T) {
	node := nstest.NewNode(t)
	nw := network{Name: "badipam", Bridge: "nstbri", Subnet: "10.94.1.0/24"}
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	c := leaks.Netns(t, "badipam")
	for i, subnet := range []string{"10.94.1.0/33", "; reboot", "10.94.1.0/24\n-j ACCEPT"} {
		nw.Subnet = subnet
		before := snapshot(t, node, c)
		stdout, _, err := node.RunPlugin(t, "vethbridge", env("ADD", fmt.Sprintf("badipam-%d", i), c.Path()), nw.conf())
		if err == nil {
			t.Fatalf("ADD with ipam subnet %q succeeded", subnet)
		}
		if ce := parseError(t, stdout); ce.Code != 7 || !strings.Contains(ce.Msg, "ipam.ranges[0][0].subnet") || !strings.Contains(ce.Msg, strconv.Quote(subnet)) {
			t.Errorf("ADD with ipam subnet %q: code %d %q, want 7 naming the key and the subnet", subnet, ce.Code, ce.Msg)
		}
		if after := snapshot(t, node, c); after != before {
			t.Errorf("ADD with ipam subnet %q changed the node:\nbefore:\n%s\nafter:\n%s", subnet, before, after)
		}
	}
	nw.Subnet = "10.94.1.0/24"
	nw.Extra = map[string]any{"ipam": map[string]any{
		"type": "host-local", "dataDir": "DATADIR/" + nw.Name,
		"ranges": [][]map[string]string{{{"subnet": nw.Subnet, "rangeStart": "10.95.0.1"}}},
	}}
	stdout, _, err := node.RunPlugin(t, "vethbridge", env("ADD", "badipam-range", c.Path()), nw.conf())
	if err == nil {
		t.Fatal("ADD with a rangeStart outside the subnet succeeded")
	}
	if ce := parseError(t, stdout); ce.Code != 102 || !strings.Contains(ce.Msg, "host-local") || !strings.Contains(ce.Msg, "10.95.0.1") {
		t.Errorf("ADD with a rangeStart outside the subnet: code %d %q, want 102 naming host-local and the value", ce.Code, ce.Msg)
	}
	leaks.Check(t)
}
