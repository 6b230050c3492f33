package netconf

import (
	"fmt"
	"os"
	"path/filepath"
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

// TestInheritGlobSkipsKeysThePodLacks: on a kernel whose host-only keys
// the reviewed list does not know yet (here "tcp_newglobal"), a glob
// matches one on the host that the pod's netns lacks, or shows read-only.
// ADD skips it instead of failing half-way with code 100; a literal key
// is still written, so it still fails when the pod lacks it.
func TestInheritGlobSkipsKeysThePodLacks(t *testing.T) {
	host := hostFS(t, map[string]string{
		"net/ipv4/tcp_keepalive_time": "600", "net/ipv4/tcp_newglobal": "1", "net/ipv4/tcp_newro": "1",
	})
	pod := hostFS(t, map[string]string{"net/ipv4/tcp_keepalive_time": "7200", "net/ipv4/tcp_newro": "0"})
	if err := os.Chmod(filepath.Join(pod.Root, "net/ipv4/tcp_newro"), 0o444); err != nil {
		t.Fatal(err)
	}
	c := SysctlConf{InheritSysctls: []string{"net.ipv4.tcp_*"}}
	got, err := c.Resolve(host, "eth0", nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range got {
		lines = append(lines, fmt.Sprintf("%s=%s glob=%v", s.Key.Path(), s.Value, s.FromGlob))
	}
	want := "net/ipv4/tcp_keepalive_time=600 glob=true net/ipv4/tcp_newglobal=1 glob=true net/ipv4/tcp_newro=1 glob=true"
	if strings.Join(lines, " ") != want {
		t.Fatalf("Resolve = %v\nwant %s", lines, want)
	}
	if err := pod.WriteSettings(got); err != nil {
		t.Fatalf("writing into a pod that lacks a globbed key: %v", err)
	}
	have, err := pod.ReadKeys([]sysctl.Key{got[0].Key, got[1].Key, got[2].Key})
	if err != nil || len(have) != 1 || have[got[0].Key] != "600" {
		t.Errorf("pod after ADD = %v, %v; want tcp_keepalive_time=600 alone", have, err)
	}

	c.InheritSysctls = []string{"net.ipv4.tcp_*", "net.ipv4.tcp_newglobal"}
	if got, err = c.Resolve(host, "eth0", nil); err != nil {
		t.Fatal(err)
	}
	if err := pod.WriteSettings(got); err == nil || !strings.Contains(err.Error(), "tcp_newglobal") {
		t.Errorf("a literal key the pod lacks = %v, want an error naming it", err)
	}
}
