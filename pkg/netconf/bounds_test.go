package netconf

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	current "github.com/containernetworking/cni/pkg/types/100"
)

func TestDedupe(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, nil}, {[]string{"a"}, []string{"a"}}, {[]string{"a", "b"}, []string{"a", "b"}},
		{[]string{"a", "a", "b", "a", "c", "b"}, []string{"a", "b", "c"}},
	} {
		if got := Dedupe(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Dedupe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSysctlBounds covers the size bomb: a glob repeated 43,000
// times is one pattern after deduplication, and too many distinct entries
// of any list are refused by key.
func TestSysctlBounds(t *testing.T) {
	many := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	manyMap := func(n int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			m[fmt.Sprintf("net.ipv4.conf.e%d.rp_filter", i)] = "1"
		}
		return m
	}
	start := time.Now()
	if err := (SysctlConf{InheritSysctls: slices.Repeat([]string{"net.ipv4.tcp_*"}, 43000)}).Validate("eth0", nil); err != nil {
		t.Errorf("43,000 copies of one pattern: %v, want accepted as one", err)
	}
	t.Logf("43,000 repeated patterns validated in %v", time.Since(start))
	for _, tc := range []struct {
		name string
		c    SysctlConf
		pod  map[string]string
		key  string
	}{
		{"inheritSysctls", SysctlConf{InheritSysctls: many(MaxInheritPatterns+1, "net.ipv4.tcp_k%d*")}, nil, `"inheritSysctls"`},
		{"allowedPodSysctls", SysctlConf{AllowedPodSysctls: many(MaxAllowedPodSysctls+1, "net.x%d")}, nil, `"allowedPodSysctls"`},
		{"sysctl", SysctlConf{Sysctl: manyMap(MaxSysctls + 1)}, nil, `"sysctl"`},
		{"pod sysctl", SysctlConf{}, manyMap(MaxPodSysctls + 1), `"args.cni.sysctl"`},
	} {
		err := tc.c.Validate("eth0", tc.pod)
		if err == nil || !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), "at most") {
			t.Errorf("%s over its limit: %v, want code 7 naming %s", tc.name, err, tc.key)
		}
	}
}

func TestCheckResultBounds(t *testing.T) {
	_, ipn, _ := net.ParseCIDR("10.1.0.2/24")
	ip := &current.IPConfig{Address: *ipn}
	ok := &current.Result{IPs: slices.Repeat([]*current.IPConfig{ip}, MaxResultIPs)}
	if err := CheckResultBounds(ok); err != nil {
		t.Errorf("%d IPs: %v", MaxResultIPs, err)
	}
	if err := CheckResultBounds(nil); err != nil {
		t.Errorf("nil result: %v", err)
	}
	bomb := &current.Result{IPs: slices.Repeat([]*current.IPConfig{ip}, 15000)}
	if err := CheckResultBounds(bomb); err == nil || !strings.Contains(err.Error(), "prevResult.ips") {
		t.Errorf("15,000 IPs: %v, want code 7 naming prevResult.ips", err)
	}
}
