package leases

import "testing"

func TestParseHostLocalReservation(t *testing.T) {
	for _, tc := range []struct {
		in         string
		id, ifname string
		ok         bool
	}{
		{"ctr1\r\neth0", "ctr1", "eth0", true},
		{"ctr1\r\neth0\n", "ctr1", "eth0", true},
		{"ctr1", "", "", false}, // before host-local 0.8: no interface name
		{"", "", "", false},
		{"\r\neth0", "", "", false},
		{"ctr1\r\n", "", "", false},
	} {
		id, ifname, ok := parseHostLocalReservation(tc.in)
		if id != tc.id || ifname != tc.ifname || ok != tc.ok {
			t.Errorf("parseHostLocalReservation(%q) = %q, %q, %v, want %q, %q, %v", tc.in, id, ifname, ok, tc.id, tc.ifname, tc.ok)
		}
	}
}

func TestHostLocalDir(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{`{"ipam": {"type": "host-local", "dataDir": "/tmp/x"}}`, "/tmp/x/net1"},
		{`{"ipam": {"type": "host-local"}}`, "/var/lib/cni/networks/net1"},
	} {
		got, err := hostLocalDir([]byte(tc.conf), "net1")
		if err != nil || got != tc.want {
			t.Errorf("hostLocalDir(%s) = %q, %v, want %q", tc.conf, got, err, tc.want)
		}
	}
	if _, err := hostLocalDir([]byte(`{"ipam": 1}`), "net1"); err == nil {
		t.Error("hostLocalDir accepted an ipam that is not an object")
	}
}
