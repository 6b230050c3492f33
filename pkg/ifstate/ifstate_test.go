package ifstate

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

func TestCheckL3(t *testing.T) {
	_, ipnet, _ := net.ParseCIDR("10.1.0.0/24")
	ipnet.IP = net.ParseIP("10.1.0.5").To4()
	_, dflt, _ := net.ParseCIDR("0.0.0.0/0")
	res := &current.Result{
		IPs:    []*current.IPConfig{{Address: *ipnet, Interface: current.Int(2)}},
		Routes: []*types.Route{{Dst: *dflt, GW: net.ParseIP("10.1.0.1")}},
	}
	full := L3{
		Addrs:  []netip.Prefix{netip.MustParsePrefix("10.1.0.5/24")},
		Routes: []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), GW: netip.MustParseAddr("10.1.0.1")}},
	}
	for _, tc := range []struct {
		name string
		have L3
		idx  int
		want string
	}{
		{"all there", full, 2, ""},
		{"address on another interface is not ours", L3{Routes: full.Routes}, 1, ""},
		{"address missing", L3{Routes: full.Routes}, 2, "address 10.1.0.5/24 missing"},
		{"route missing", L3{Addrs: full.Addrs}, 2, "route 0.0.0.0/0 via 10.1.0.1 missing"},
		{"route via another gateway", L3{Addrs: full.Addrs, Routes: []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), GW: netip.MustParseAddr("10.1.0.9")}}}, 2, "route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckL3(res, tc.idx, "eth0", tc.have)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("CheckL3 = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCheckSysctlsSkipsGlobKeysThePodLacks: a key an inheritSysctls glob
// chose that the pod's netns cannot take was skipped by ADD, so CHECK
// skips it too; an explicit key missing there is drift, named.
func TestCheckSysctlsSkipsGlobKeysThePodLacks(t *testing.T) {
	kept, _ := sysctl.ParseKey("net.ipv4.tcp_keepalive_time", "eth0")
	lacking, _ := sysctl.ParseKey("net.ipv4.tcp_newglobal", "eth0")
	have := map[sysctl.Key]string{kept: "600"}
	for _, tc := range []struct {
		name string
		want []netconf.Setting
		err  string
	}{
		{"glob key absent", []netconf.Setting{{Key: kept, Value: "600"}, {Key: lacking, Value: "1", FromGlob: true}}, ""},
		{"explicit key absent", []netconf.Setting{{Key: lacking, Value: "1"}}, "net.ipv4.tcp_newglobal is absent or read-only"},
		{"value differs", []netconf.Setting{{Key: kept, Value: "60", FromGlob: true}}, `is "600", want "60"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSysctls(tc.want, have)
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("CheckSysctls = %v, want %q", err, tc.err)
			}
		})
	}
}
