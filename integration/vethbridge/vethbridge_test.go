//go:build integration

// Package vethbridge runs the real vethbridge binary, with host-local, through
// libcni and cnitool in namespaces each test makes, and asserts what the
// kernel reports.
package vethbridge

import (
	"fmt"
	"strings"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/integration/nstest"
)

func TestContainersReachEachOtherAndTheGateway(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "reach", plugin("reach", []string{"10.30.0.0/24"}, nil)), 2)
	r0, r1 := s.add(t, 0), s.add(t, 1)
	ping(t, s.conts[0].Netns, "10.30.0.1")
	ping(t, s.conts[0].Netns, addrOf(t, r1, false))
	ping(t, s.conts[1].Netns, addrOf(t, r0, false))
	for _, v := range hostVeths(t, s.node) {
		var master string
		for _, l := range s.node.Host.Links(t) {
			if l.Name == v {
				master = l.Master
			}
		}
		if master != "nstbr0" {
			t.Errorf("host veth %s master = %q, want nstbr0", v, master)
		}
	}
}

func TestMasqueradeSeenFromOutside(t *testing.T) {
	for _, policy := range []string{"ACCEPT", "DROP"} {
		t.Run("FORWARD policy "+policy, func(t *testing.T) {
			s := newSetup(t, conflist("1.1.0", "masq", plugin("masq", []string{"10.31.0.0/24"}, nil)), 2)
			out := outside(t, s.node)
			s.node.Host.Exec(t, "iptables", "-P", "FORWARD", policy)
			s.add(t, 0)
			r1 := s.add(t, 1)
			port, remotes := listen(t, out, "192.0.2.2")
			dial(t, s.node, s.conts[0].Netns, "192.0.2.2", port)
			if got := <-remotes; got != "192.0.2.1" {
				t.Errorf("outside saw the connection from %s, want the node's 192.0.2.1 (masquerade)", got)
			}
			// Pod to pod keeps its source address.
			podPort, podRemotes := listen(t, s.conts[1].Netns, addrOf(t, r1, false))
			dial(t, s.node, s.conts[0].Netns, addrOf(t, r1, false), podPort)
			if got := <-podRemotes; !strings.HasPrefix(got, "10.31.0.") {
				t.Errorf("pod saw pod traffic from %s, want a pod address", got)
			}
		})
	}
}

func TestNoMasqueradeCIDRs(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "nomasq", plugin("nomasq", []string{"10.32.0.0/24"},
		map[string]any{"noMasqueradeCIDRs": []string{"192.0.2.0/24"}})), 1)
	out := outside(t, s.node)
	nstest.Run(t, "ip", "-n", out.Name, "route", "add", "10.32.0.0/24", "via", "192.0.2.1")
	r := s.add(t, 0)
	port, remotes := listen(t, out, "192.0.2.2")
	dial(t, s.node, s.conts[0].Netns, "192.0.2.2", port)
	if got := <-remotes; got != addrOf(t, r, false) {
		t.Errorf("outside saw %s, want the pod's own %s (no masquerade)", got, addrOf(t, r, false))
	}
}

func TestSysctlsSetAndInherited(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "sysctl", plugin("sysctl", []string{"10.33.0.0/24"}, map[string]any{
		"inheritSysctls": []string{"net.ipv4.tcp_keepalive_*"},
		"sysctl": map[string]string{
			"net.ipv4.tcp_keepalive_probes":   "4", // explicit wins over inherited
			"net.ipv4.conf.IFNAME.rp_filter":  "2",
			"net/ipv6/conf/IFNAME/accept_ra":  "0",
			"net.ipv4.tcp_congestion_control": "reno",
		},
	})), 1)
	s.node.Host.SetSysctl(t, "net/ipv4/tcp_keepalive_time", "600")
	s.node.Host.SetSysctl(t, "net/ipv4/tcp_keepalive_intvl", "33")
	s.add(t, 0)
	c := s.conts[0].Netns
	for path, want := range map[string]string{
		"net/ipv4/tcp_keepalive_time":     "600",
		"net/ipv4/tcp_keepalive_intvl":    "33",
		"net/ipv4/tcp_keepalive_probes":   "4",
		"net/ipv4/conf/eth0/rp_filter":    "2",
		"net/ipv6/conf/eth0/accept_ra":    "0",
		"net/ipv4/tcp_congestion_control": "reno",
	} {
		if got := c.Sysctl(t, path); got != want {
			t.Errorf("container %s = %q, want %q", path, got, want)
		}
	}
}

func TestRPSOnEveryRxQueueOfTheHostVeth(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "rps", plugin("rps", []string{"10.34.0.0/24"}, map[string]any{
		"rps": map[string]any{"cpus": "all", "flowCount": 2048},
	})), 1)
	s.add(t, 0)
	veths := hostVeths(t, s.node)
	if len(veths) != 1 {
		t.Fatalf("host veths = %v", veths)
	}
	all := fmt.Sprintf("%x", (1<<nstest.PossibleCPUs(t))-1)
	for q, v := range rxQueues(t, s.node, veths[0]) {
		if strings.TrimLeft(v[0], "0,") != all || v[1] != "2048" {
			t.Errorf("%s %s: rps_cpus=%s rps_flow_cnt=%s, want %s and 2048", veths[0], q, v[0], v[1], all)
		}
	}
}

func TestDelRemovesEverythingTheAttachmentOwns(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "del", plugin("del", []string{"10.35.0.0/24"}, nil)), 2)
	s.add(t, 0)
	rulesAfterFirst := s.node.Host.Rules(t, false)
	s.add(t, 1)
	if got := s.node.Host.Rules(t, false); got != rulesAfterFirst {
		t.Errorf("second ADD changed netfilter rules:\nbefore:\n%s\nafter:\n%s", rulesAfterFirst, got)
	}
	wantReservations(t, s.node, "del", 2)
	s.del(t, 1)
	s.del(t, 1) // twice: still success
	if v := hostVeths(t, s.node); len(v) != 1 {
		t.Errorf("host veths after DEL = %v, want 1", v)
	}
	wantReservations(t, s.node, "del", 1)
	if got := s.node.Host.Rules(t, false); got != rulesAfterFirst {
		t.Errorf("DEL changed the network's rules:\nbefore:\n%s\nafter:\n%s", rulesAfterFirst, got)
	}
	// DEL after the runtime already deleted the netns.
	nstest.Run(t, "ip", "netns", "del", s.conts[0].Netns.Name)
	s.del(t, 0)
	if v := hostVeths(t, s.node); len(v) != 0 {
		t.Errorf("host veths after DEL of a deleted netns = %v", v)
	}
	wantReservations(t, s.node, "del", 0)
}

func TestCheckPassesThenNamesTheDrift(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, s *setup, res *current.Result)
		want   string
	}{
		{"address removed", func(t *testing.T, s *setup, res *current.Result) {
			nstest.Run(t, "ip", "-n", s.conts[0].Netns.Name, "addr", "del", res.IPs[0].Address.String(), "dev", "eth0")
		}, "address"},
		{"sysctl changed", func(t *testing.T, s *setup, _ *current.Result) {
			s.conts[0].Netns.SetSysctl(t, "net/ipv4/tcp_keepalive_time", "999")
		}, "tcp_keepalive_time"},
		{"rps reset", func(t *testing.T, s *setup, _ *current.Result) {
			s.node.Host.Exec(t, "sh", "-c", "echo 0 > /sys/class/net/"+hostVeths(t, s.node)[0]+"/queues/rx-0/rps_cpus")
		}, "rps_cpus"},
		{"rule removed", func(t *testing.T, s *setup, _ *current.Result) {
			if backend() == "nftables" {
				s.node.Host.Exec(t, "nft", "flush", "chain", "inet", "netsteer", "forward")
				return
			}
			s.node.Host.Exec(t, "iptables", "-t", "filter", "-F", "FORWARD")
		}, map[bool]string{true: "forward", false: "FORWARD"}[backend() == "nftables"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, conflist("1.1.0", "check", plugin("check", []string{"10.36.0.0/24"}, map[string]any{
				"sysctl": map[string]string{"net.ipv4.tcp_keepalive_time": "300"},
				"rps":    map[string]any{"cpus": "all"},
			})), 1)
			res := s.add(t, 0)
			if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
				t.Fatalf("CHECK right after ADD: %v", err)
			}
			tc.tamper(t, s, res)
			err := s.node.Check(t, s.list, s.conts[0])
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CHECK after tampering = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestGCRemovesExactlyTheInvalidAttachments(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "gc", plugin("gc", []string{"10.37.0.0/24"}, nil)), 3)
	for i := range s.conts {
		s.add(t, i)
	}
	if err := s.node.GC(t, s.list, s.conts[1]); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if v := hostVeths(t, s.node); len(v) != 1 {
		t.Errorf("host veths after GC = %v, want only the valid one", v)
	}
	wantReservations(t, s.node, "gc", 1)
	ping(t, s.conts[1].Netns, "10.37.0.1")
}

func TestStatus(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "status", plugin("status", []string{"10.38.0.0/24"}, nil)), 0)
	if err := s.node.Status(t, s.list); err != nil {
		t.Fatalf("STATUS on a working node: %v", err)
	}
}

func TestCNIVersions(t *testing.T) {
	for i, v := range []string{"0.2.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"} {
		t.Run(v, func(t *testing.T) {
			s := newSetup(t, conflist(v, "ver", plugin("ver", []string{fmt.Sprintf("10.39.%d.0/24", i)}, nil)), 2)
			s.add(t, 0)
			r1 := s.add(t, 1)
			ping(t, s.conts[0].Netns, addrOf(t, r1, false))
			if v >= "0.4.0" { // CHECK exists since 0.4.0
				if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
					t.Errorf("CHECK: %v", err)
				}
			}
			s.del(t, 0)
			s.del(t, 1)
			wantReservations(t, s.node, "ver", 0)
		})
	}
}

func TestIPv6AndDualStack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		subnets []string
	}{
		{"ipv6", []string{"fd00:40::/64"}},
		{"dual stack", []string{"10.40.0.0/24", "fd00:41::/64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, conflist("1.1.0", "v6", plugin("v6", tc.subnets, nil)), 2)
			s.add(t, 0)
			r1 := s.add(t, 1)
			ping(t, s.conts[0].Netns, addrOf(t, r1, true))
			if len(tc.subnets) == 2 {
				ping(t, s.conts[0].Netns, addrOf(t, r1, false))
			}
			if got := s.node.Host.Sysctl(t, "net/ipv6/conf/all/forwarding"); got != "1" {
				t.Errorf("IPv6 forwarding = %s, want 1", got)
			}
			if got := s.conts[0].Netns.Sysctl(t, "net/ipv6/conf/eth0/accept_dad"); got != "0" {
				t.Errorf("container accept_dad = %s, want 0 (DAD off unless enabledad)", got)
			}
			if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
				t.Errorf("CHECK: %v", err)
			}
			if !strings.Contains(strings.ToUpper(s.node.Host.Rules(t, true)), "MASQUERADE") {
				t.Error("no IPv6 masquerade rule")
			}
		})
	}
}
