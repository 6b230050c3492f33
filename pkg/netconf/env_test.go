package netconf

import (
	"strings"
	"testing"
)

func TestCheckEnvNamesTheValue(t *testing.T) {
	for _, tc := range []struct {
		command, ifname string
		bad             bool
	}{
		{"ADD", "eth0", false},
		{"ADD", "", false}, // left to skel, which names the missing variable
		{"ADD", "eth 0", true},
		{"DEL", "eth/0", true},
		{"CHECK", "-eth0", true},
		{"CHECK", "eth0123456789abc", true},
		{"GC", "eth 0", false}, // GC and STATUS take no interface
		{"STATUS", "eth 0", false},
	} {
		err := CheckEnv(tc.command, tc.ifname)
		if (err != nil) != tc.bad {
			t.Errorf("CheckEnv(%q, %q) = %v, want error %v", tc.command, tc.ifname, err, tc.bad)
			continue
		}
		if err != nil && (err.Code != 4 || !strings.Contains(err.Msg, "CNI_IFNAME") || !strings.Contains(err.Msg, tc.ifname)) {
			t.Errorf("CheckEnv(%q, %q) = code %d %q, want code 4 naming CNI_IFNAME and the value", tc.command, tc.ifname, err.Code, err.Msg)
		}
	}
}
