package sysctl

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestScopeProblem(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want string // "" means confined to the pod's netns
	}{
		{"net.ipv4.tcp_keepalive_time", ""}, {"net.ipv4.conf.eth0.rp_filter", ""},
		{"net.core.somaxconn", ""}, {"net.netfilter.nf_conntrack_tcp_timeout_established", ""},
		{"net.ipv4.ip_local_port_range", ""}, {"net.ipv4.tcp_congestion_control", ""},
		{"net.netfilter.nf_hooks_lwtunnel", "node-wide effect"},
		{"net/netfilter/nf_hooks_lwtunnel", "node-wide effect"},
		{"net.netfilter.nf_log.2", "node-wide effect"}, {"net.netfilter.nf_log.10", "node-wide effect"},
		{"net.core.rps_sock_flow_entries", "only in the host"}, {"net.core.rmem_max", "only in the host"},
		{"net.ipv4.tcp_mem", "only in the host"}, {"net.nf_conntrack_max", "only in the host"},
		{"net.netfilter.nf_log_all_netns", "only in the host"},
	} {
		k, err := ParseKey(tc.key, "")
		if err != nil {
			t.Fatal(err)
		}
		got := ScopeProblem(k)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("ScopeProblem(%s) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// scopeTree is a host tree with keys of every kind Inherit must tell apart.
var scopeTree = map[string]string{
	"net/ipv4/tcp_keepalive_time":                  "600",
	"net/ipv4/tcp_mem":                             "1\t2\t3",
	"net/ipv4/tcp_available_congestion_control":    "reno cubic",
	"net/ipv4/tcp_allowed_congestion_control":      "reno cubic",
	"net/netfilter/nf_hooks_lwtunnel":              "0",
	"net/netfilter/nf_conntrack_tcp_timeout_close": "10",
}

func TestInheritSkipsOrRefusesUnconfinedKeys(t *testing.T) {
	host := fakeProc(t, scopeTree)
	// The kernel's mode for a value a namespace may read but not set.
	if err := os.Chmod(filepath.Join(host.Root, "net/ipv4/tcp_available_congestion_control"), 0o444); err != nil {
		t.Fatal(err)
	}
	got, err := Inherit(host, []string{"net.ipv4.tcp_*", "net.netfilter.nf_*"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range SortedKeys(got) {
		keys = append(keys, k.String())
	}
	want := "net.ipv4.tcp_keepalive_time net.netfilter.nf_conntrack_tcp_timeout_close"
	if strings.Join(keys, " ") != want {
		t.Errorf("Inherit of globs = %v, want only %s (read-only, host-only and node-wide keys skipped)", keys, want)
	}
	for _, tc := range []struct{ pattern, want string }{
		{"net.netfilter.nf_hooks_lwtunnel", "node-wide effect"},
		{"net.ipv4.tcp_mem", "only in the host"},
		{"net.ipv4.tcp_available_congestion_control", "read-only"},
		{"net.netfilter.nf_hooks_*", "read-only or not confined"},
	} {
		_, err := Inherit(host, []string{tc.pattern}, "")
		if err == nil || !strings.Contains(err.Error(), tc.pattern) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Inherit(%s) = %v, want an error naming it: %s", tc.pattern, err, tc.want)
		}
	}
	if _, err := Inherit(host, []string{"net.netfilter.nf_hooks_*"}, ""); !errors.Is(err, ErrNoMatch) {
		t.Errorf("a glob matching only unconfined keys: %v, want ErrNoMatch", err)
	}
}

func TestInheritBoundsKeys(t *testing.T) {
	tree := map[string]string{}
	for i := 0; i <= MaxInheritedKeys; i++ {
		tree["net/ipv4/conf/e"+strconv.Itoa(i)+"/rp_filter"] = "1"
	}
	host := fakeProc(t, tree)
	var patterns []string
	for i := 0; i <= MaxInheritedKeys; i++ {
		patterns = append(patterns, "net/ipv4/conf/e"+strconv.Itoa(i)+"/rp_*")
	}
	if _, err := Inherit(host, patterns, ""); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("Inherit of %d keys = %v, want the bound", len(patterns), err)
	}
}
