package netconf

import (
	"strings"
	"testing"

	"github.com/netsteer/netsteer/pkg/sysctl"
	"github.com/netsteer/netsteer/pkg/sysctl/sysctltest"
)

func hostFS(t *testing.T, values map[string]string) sysctl.FS { return sysctltest.Tree(t, values) }

func TestResolveOrderAndPrecedence(t *testing.T) {
	host := hostFS(t, map[string]string{
		"net/ipv4/tcp_keepalive_time":   "600",
		"net/ipv4/tcp_keepalive_intvl":  "30",
		"net/ipv4/tcp_keepalive_probes": "5",
	})
	c := SysctlConf{
		InheritSysctls: []string{"net.ipv4.tcp_keepalive_*"},
		Sysctl:         map[string]string{"net.ipv4.tcp_keepalive_probes": "9", "net.ipv4.conf.IFNAME.rp_filter": "2"},
	}
	got, err := c.Resolve(host, "eth0.100", map[string]string{"net.ipv4.tcp_keepalive_time": "60"})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range got {
		lines = append(lines, s.Key.Path()+"="+s.Value)
	}
	want := "net/ipv4/tcp_keepalive_intvl=30 net/ipv4/tcp_keepalive_probes=9 net/ipv4/tcp_keepalive_time=60 net/ipv4/conf/eth0.100/rp_filter=2"
	if strings.Join(lines, " ") != want {
		t.Errorf("Resolve = %v\nwant %s", lines, want)
	}
}

func TestValidatePodAllowlist(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		pod     map[string]string
		wantErr string
	}{
		{"default allows keepalive", nil, map[string]string{"net.ipv4.tcp_keepalive_time": "60"}, ""},
		{"default refuses somaxconn", nil, map[string]string{"net.core.somaxconn": "1"}, "net.core.somaxconn"},
		{"operator glob", []string{"net.core.*"}, map[string]string{"net.core.somaxconn": "1"}, ""},
		{"operator list replaces default", []string{"net.core.*"}, map[string]string{"net.ipv4.tcp_keepalive_time": "60"}, "tcp_keepalive_time"},
		{"empty list allows nothing", []string{}, map[string]string{"net.ipv4.tcp_keepalive_time": "60"}, "allowedPodSysctls"},
		{"bad value", nil, map[string]string{"net.ipv4.tcp_keepalive_time": "6\n0"}, "tcp_keepalive_time"},
		{"bad glob", []string{"net.["}, nil, "allowedPodSysctls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := SysctlConf{AllowedPodSysctls: tc.allowed}.Validate("eth0", tc.pod)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate = %v, want an error naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestInheritMissingPattern(t *testing.T) {
	c := SysctlConf{InheritSysctls: []string{"net.ipv4.nothing_*"}}
	if _, err := c.Resolve(hostFS(t, nil), "eth0", nil); err == nil || !strings.Contains(err.Error(), "nothing_") {
		t.Fatalf("Resolve = %v, want an error naming the pattern", err)
	}
}
