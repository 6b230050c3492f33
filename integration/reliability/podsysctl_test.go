//go:build integration

package reliability

import (
	"fmt"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// TestPodSysctlsAreLimitedByTheAllowlist: a pod's sysctls, through
// libcni's capability args (runtimeConfig.sysctl) or through args.cni
// written into the config by the runtime, are applied when the
// operator's allowlist admits them and refused with code 7 naming the key
// otherwise, while the network config itself sets any namespaced net.*
// key. A refused ADD leaves nothing.
func TestPodSysctlsAreLimitedByTheAllowlist(t *testing.T) {
	own := map[string]string{
		"net.ipv4.conf.IFNAME.rp_filter":  "2",    // not pod-safe: only the operator's config may
		"net.ipv4.tcp_congestion_control": "reno", // idem
	}
	for i, tc := range []struct {
		name    string
		extra   map[string]any // plugin keys besides the network's own sysctl
		caps    map[string]any
		want    map[string]string // container sysctls after ADD
		refused string            // the key the error must name; "" when ADD succeeds
	}{
		{name: "allowed by default, through runtimeConfig",
			caps: map[string]any{"sysctl": map[string]string{"net.ipv4.tcp_keepalive_time": "321"}},
			want: map[string]string{"net/ipv4/tcp_keepalive_time": "321", "net/ipv4/conf/eth0/rp_filter": "2", "net/ipv4/tcp_congestion_control": "reno"}},
		{name: "allowed by default, through args.cni",
			extra: map[string]any{"args": map[string]any{"cni": map[string]any{"sysctl": map[string]string{"net.ipv4.tcp_fin_timeout": "33"}}}},
			want:  map[string]string{"net/ipv4/tcp_fin_timeout": "33", "net/ipv4/conf/eth0/rp_filter": "2"}},
		{name: "not pod-safe, through runtimeConfig",
			caps:    map[string]any{"sysctl": map[string]string{"net.ipv4.conf.IFNAME.rp_filter": "0"}},
			refused: "rp_filter"},
		{name: "not pod-safe, through args.cni",
			extra:   map[string]any{"args": map[string]any{"cni": map[string]any{"sysctl": map[string]string{"net.ipv4.ip_forward": "1"}}}},
			refused: "ip_forward"},
		{name: "operator's list replaces the default: now allowed",
			extra: map[string]any{"allowedPodSysctls": []string{"net.ipv4.tcp_ecn"}},
			caps:  map[string]any{"sysctl": map[string]string{"net.ipv4.tcp_ecn": "1"}},
			want:  map[string]string{"net/ipv4/tcp_ecn": "1"}},
		{name: "operator's list replaces the default: now refused",
			extra:   map[string]any{"allowedPodSysctls": []string{"net.ipv4.tcp_ecn"}},
			caps:    map[string]any{"sysctl": map[string]string{"net.ipv4.tcp_keepalive_time": "321"}},
			refused: "tcp_keepalive_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := nstest.NewNode(t)
			nw := network{Name: "podsysctl", Bridge: "nstbrs", Subnet: fmt.Sprintf("10.96.%d.0/24", i),
				Extra: map[string]any{"sysctl": own, "capabilities": map[string]bool{"sysctl": true}}}
			for k, v := range tc.extra {
				nw.Extra[k] = v
			}
			leaks := nstest.WatchLeaks(t, node, nw.Name)
			list := node.Conflist(t, "10-podsysctl.conflist", nw.conflist())
			a := nstest.Attachment{ID: "podsysctl-1", Netns: leaks.Netns(t, "podsysctl"), IfName: "eth0", Caps: tc.caps}
			_, err := node.Add(t, list, a)
			if tc.refused != "" {
				if code := cniCode(err); code != 7 || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("ADD = %v (code %d), want code 7 naming %s", err, code, tc.refused)
				}
				leaks.Check(t)
				return
			}
			if err != nil {
				t.Fatalf("ADD: %v", err)
			}
			for path, want := range tc.want {
				if got := a.Netns.Sysctl(t, path); got != want {
					t.Errorf("container %s = %q, want %q", path, got, want)
				}
			}
			if err := node.Del(t, list, a); err != nil {
				t.Fatalf("DEL: %v", err)
			}
			leaks.Check(t)
		})
	}
}
