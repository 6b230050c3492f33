//go:build integration

package vethbridge

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// snapshot is what a failed ADD must leave unchanged on the node and in
// the container: links, addresses, routes and netfilter rules, as the
// kernel reports them.
func snapshot(t *testing.T, node *nstest.Node, c nstest.Netns) string {
	t.Helper()
	var b strings.Builder
	for _, ns := range []nstest.Netns{node.Host, c} {
		b.WriteString(ns.Topology(t))
	}
	b.WriteString(node.Host.Rules(t, false))
	return b.String()
}

func TestBadInputChangesNothing(t *testing.T) {
	good := plugin("bad", []string{"10.50.0.0/24"}, nil)
	for _, tc := range []struct {
		name     string
		conf     func() map[string]any
		env      map[string]string
		wantCode int
		wantMsg  string
	}{
		{"unknown key", func() map[string]any { return with(good, "bridgeName", "x") }, nil, 2, `"bridgeName"`},
		{"bad mask", func() map[string]any { return with(good, "rps", map[string]any{"cpus": "zz"}) }, nil, 7, `"zz"`},
		{"mask beyond CPUs", func() map[string]any { return with(good, "rps", map[string]any{"cpus": "0-4095"}) }, nil, 7, "rps.cpus"},
		{"sysctl escaping", func() map[string]any {
			return with(good, "sysctl", map[string]string{"net.ipv4/../../kernel/hostname": "x"})
		}, nil, 7, "kernel"},
		{"non-net sysctl", func() map[string]any { return with(good, "sysctl", map[string]string{"kernel.hostname": "x"}) }, nil, 7, "kernel.hostname"},
		{"value with newline", func() map[string]any {
			return with(good, "sysctl", map[string]string{"net.ipv4.tcp_keepalive_time": "1\nnet.ipv4.ip_forward=1"})
		}, nil, 7, "tcp_keepalive_time"},
		{"bridge with slash", func() map[string]any { return with(good, "bridge", "br/../x") }, nil, 7, "br/../x"},
		{"bridge too long", func() map[string]any { return with(good, "bridge", "bridge-name-too-long") }, nil, 7, "15 bytes"},
		{"bad CIDR", func() map[string]any { return with(good, "noMasqueradeCIDRs", []string{"300.0.0.0/8"}) }, nil, 7, "300.0.0.0/8"},
		{"wrong type", func() map[string]any { return with(good, "ipMasq", "yes") }, nil, 7, "ipMasq"},
		{"CNI_ARGS injection", func() map[string]any { return good }, map[string]string{"CNI_ARGS": "MAC=02:00:00:00:00:01;EVIL=$(reboot)"}, 4, "CNI_ARGS"},
		{"ifname with slash", func() map[string]any { return good }, map[string]string{"CNI_IFNAME": "eth0/../x"}, 4, "interface name"},
		{"netns is a regular file", func() map[string]any { return good }, map[string]string{"CNI_NETNS": "REGULAR_FILE"}, 4, "not a network namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := nstest.NewNode(t)
			c := nstest.NewNetns(t, "c")
			before := snapshot(t, node, c)
			conf, _ := json.Marshal(with(tc.conf(), "cniVersion", "1.1.0", "name", "bad"))
			env := map[string]string{"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "ctr1", "CNI_NETNS": c.Path(), "CNI_IFNAME": "eth0"}
			for k, v := range tc.env {
				if v == "REGULAR_FILE" {
					v = filepath.Join(t.TempDir(), "not-a-netns")
					if err := os.WriteFile(v, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				env[k] = v
			}
			stdout, _, err := node.Plugin(t, "vethbridge", env, string(conf))
			if err == nil {
				t.Fatalf("ADD succeeded, want code %d", tc.wantCode)
			}
			var cniErr struct {
				Code int    `json:"code"`
				Msg  string `json:"msg"`
			}
			if jerr := json.Unmarshal([]byte(stdout), &cniErr); jerr != nil {
				t.Fatalf("stdout is not CNI error JSON: %q", stdout)
			}
			if cniErr.Code != tc.wantCode || !strings.Contains(cniErr.Msg, tc.wantMsg) {
				t.Errorf("error = code %d %q, want code %d naming %q", cniErr.Code, cniErr.Msg, tc.wantCode, tc.wantMsg)
			}
			if after := snapshot(t, node, c); after != before {
				t.Errorf("bad input changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			wantReservations(t, node, "bad", 0)
		})
	}
}

// with copies m and sets key/value pairs.
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestAddRefusesTheHostNetns(t *testing.T) {
	node := nstest.NewNode(t)
	before := snapshot(t, node, node.Host)
	conf, _ := json.Marshal(with(plugin("hostns", []string{"10.51.0.0/24"}, nil), "cniVersion", "1.1.0", "name", "hostns"))
	for _, netns := range []string{node.Host.Path(), "/proc/self/ns/net"} {
		stdout, _, err := node.Plugin(t, "vethbridge", map[string]string{
			"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "ctr1", "CNI_NETNS": netns, "CNI_IFNAME": "eth0",
		}, string(conf))
		if err == nil || !strings.Contains(stdout, "own (host) network namespace") {
			t.Errorf("ADD into %s: err=%v stdout=%s", netns, err, stdout)
		}
	}
	if after := snapshot(t, node, node.Host); after != before {
		t.Errorf("refused ADD changed the node:\n%s\nvs\n%s", before, after)
	}
}

func TestAddRefusesAnExistingInterface(t *testing.T) {
	s := newSetup(t, conflist("1.1.0", "dup", plugin("dup", []string{"10.52.0.0/24"}, nil)), 1)
	res := s.add(t, 0)
	// A second ADD of the same attachment must fail and must not undo the first.
	if _, err := s.node.Add(t, s.list, s.conts[0]); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second ADD = %v, want 'already exists'", err)
	}
	if addrs := s.conts[0].Netns.Addrs(t, "eth0"); len(addrs) != 1 || addrs[0] != res.IPs[0].Address.String() {
		t.Errorf("first attachment damaged: eth0 addresses %v", addrs)
	}
	wantReservations(t, s.node, "dup", 1)
}
