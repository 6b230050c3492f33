package alias

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		alias           string
		net, id, ifname string
		ok              bool
	}{
		{Attachment("pods", "abc123", "eth0"), "pods", "abc123", "eth0", true},
		{"netsteer:pods:abc:eth0.100", "pods", "abc", "eth0.100", true},
		{"netsteer:pods:abc", "", "", "", false},
		{"netsteer:pods:abc:eth0:x", "", "", "", false},
		{"netsteer::abc:eth0", "", "", "", false},
		{"netsteer-rules:0123456789abcdef", "", "", "", false},
		{"operator's alias", "", "", "", false},
		{"", "", "", "", false},
	} {
		n, id, ifname, ok := Parse(tc.alias)
		if n != tc.net || id != tc.id || ifname != tc.ifname || ok != tc.ok {
			t.Errorf("Parse(%q) = %q %q %q %v, want %q %q %q %v", tc.alias, n, id, ifname, ok, tc.net, tc.id, tc.ifname, tc.ok)
		}
	}
}
