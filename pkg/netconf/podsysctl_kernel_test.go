package netconf

import (
	"strings"
	"testing"
)

func TestKernelGatedPodSysctls(t *testing.T) {
	for _, tc := range []struct {
		name    string
		release string // kernel/osrelease; "" leaves the file out
		allowed []string
		key     string
		wantErr string
	}{
		{"slow start on 6.18", "6.18.44-fc-v782", nil, "net.ipv4.tcp_slow_start_after_idle", ""},
		{"slow start on 4.15", "4.15.0-213-generic", nil, "net.ipv4.tcp_slow_start_after_idle", ""},
		{"slow start on 4.14", "4.14.336", nil, "net.ipv4.tcp_slow_start_after_idle", "only from Linux 4.15"},
		{"notsent_lowat on 4.6", "4.6.0", nil, "net.ipv4.tcp_notsent_lowat", ""},
		{"notsent_lowat on 4.5", "4.5.7", nil, "net.ipv4.tcp_notsent_lowat", "this node runs 4.5"},
		{"notsent_lowat on 3.10", "3.10.0-1160.el7.x86_64", nil, "net.ipv4.tcp_notsent_lowat", "only from Linux 4.6"},
		{"release unreadable", "", nil, "net.ipv4.tcp_notsent_lowat", "release is unknown"},
		{"release garbage", "banana", nil, "net.ipv4.tcp_notsent_lowat", "release is unknown"},
		{"ungated default needs no release", "", nil, "net.ipv4.tcp_keepalive_time", ""},
		{"operator's allowlist is taken as written", "3.10.0", []string{"net.ipv4.tcp_*"}, "net.ipv4.tcp_notsent_lowat", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values := map[string]string{}
			if tc.release != "" {
				values["kernel/osrelease"] = tc.release
			}
			c := SysctlConf{AllowedPodSysctls: tc.allowed}
			pod := map[string]string{tc.key: "1"}
			if err := c.Validate("eth0", pod); err != nil {
				t.Fatalf("Validate (no kernel read): %v", err)
			}
			got, err := c.Resolve(hostFS(t, values), "eth0", pod)
			if tc.wantErr == "" {
				if err != nil || len(got) != 1 || got[0].Key.String() != tc.key {
					t.Fatalf("Resolve = %v, %v; want %s set", got, err, tc.key)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("Resolve = %v, want a refusal naming %s and %q", err, tc.key, tc.wantErr)
			}
		})
	}
}

func TestParseKernelRelease(t *testing.T) {
	for in, want := range map[string]kernelRelease{
		"6.18.44-fc-v782\n": {6, 18}, "4.15.0-213-generic": {4, 15}, "5.10": {5, 10}, "4.19rc1": {4, 19},
	} {
		if got, err := parseKernelRelease(in); err != nil || got != want {
			t.Errorf("parseKernelRelease(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "6", "x.y", "-1.a"} {
		if _, err := parseKernelRelease(bad); err == nil {
			t.Errorf("parseKernelRelease(%q) accepted", bad)
		}
	}
}
