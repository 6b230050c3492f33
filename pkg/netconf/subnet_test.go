package netconf

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

func TestPodSubnetProblem(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" means acceptable
	}{
		{"10.22.0.0/16", ""}, {"10.22.0.5/24", ""}, {"192.168.0.0/24", ""}, {"fd00:22::/64", ""},
		{"100.64.0.0/10", ""}, {"1.0.0.0/8", ""},
		{"0.0.0.0/0", "zero-length"}, {"10.0.0.0/0", "zero-length"}, {"::/0", "zero-length"},
		{"0.0.0.0/1", "this network"}, {"0.0.0.0/8", "this network"}, {"127.0.0.0/8", "loopback"},
		{"127.1.0.0/16", "loopback"}, {"64.0.0.0/2", "loopback"}, {"224.0.0.0/24", "multicast"},
		{"128.0.0.0/1", "link-local"}, {"192.0.0.0/2", "multicast"}, {"255.255.255.0/24", "broadcast"},
		{"::ffff:10.0.0.0/104", "IPv4-mapped"}, {"::ffff:0:0/96", "IPv4-mapped"},
		{"169.254.0.0/16", "link-local"}, {"fe80::/64", "link-local"},
		{"::/8", "unspecified"}, {"::1/128", "loopback"}, {"ff02::/16", "multicast"}, {"8000::/1", "link-local"}, {"ff00::/9", "multicast"},
	} {
		got := PodSubnetProblem(netip.MustParsePrefix(tc.in))
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("PodSubnetProblem(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidatePodSubnetNodeAddrs(t *testing.T) {
	node := []LinkAddr{
		{Link: "eth0", Addr: netip.MustParseAddr("10.0.0.5")},
		{Link: "cni0", Addr: netip.MustParseAddr("10.22.0.1")},
		{Link: "eth0", Addr: netip.MustParseAddr("fd00::5")},
	}
	for _, tc := range []struct {
		subnet, own string
		want        string
	}{
		{"10.22.0.0/24", "cni0", ""},                    // the network's own gateway
		{"10.22.0.0/24", "other0", "10.22.0.1 on cni0"}, // another bridge's address
		{"10.0.0.0/24", "cni0", "10.0.0.5 on eth0"},
		{"10.0.0.0/8", "cni0", "10.0.0.5 on eth0"},
		{"10.1.0.0/16", "cni0", ""},
		{"fd00::/64", "cni0", "fd00::5 on eth0"},
	} {
		err := ValidatePodSubnet("ipam.subnet", netip.MustParsePrefix(tc.subnet), node, tc.own)
		var te *types.Error
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidatePodSubnet(%s, own %s) = %v, want nil", tc.subnet, tc.own, err)
		case tc.want != "" && (!errors.As(err, &te) || te.Code != types.ErrInvalidNetworkConfig ||
			!strings.Contains(te.Msg, tc.want) || !strings.Contains(te.Msg, tc.subnet) || !strings.Contains(te.Msg, "ipam.subnet")):
			t.Errorf("ValidatePodSubnet(%s, own %s) = %v, want code 7 naming the key, subnet and %q", tc.subnet, tc.own, err, tc.want)
		}
	}
}

func TestIPAMSubnets(t *testing.T) {
	for _, tc := range []struct {
		conf string
		want []string // "key=prefix"
		err  string
	}{
		{conf: `{"ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}}`, want: []string{"ipam.subnet=10.1.0.0/16"}},
		{conf: `{"ipam": {"type": "host-local", "ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "fd00::/64"}, {"subnet": "0.0.0.0/0"}]]}}`,
			want: []string{"ipam.ranges[0][0].subnet=10.1.0.0/24", "ipam.ranges[1][0].subnet=fd00::/64", "ipam.ranges[1][1].subnet=0.0.0.0/0"}},
		{conf: `{"ipam": {"type": "static", "addresses": [{"address": "10.9.0.3/24"}]}}`, want: []string{"ipam.addresses[0].address=10.9.0.3/24"}},
		{conf: `{"ipam": {"type": "dhcp"}}`},
		{conf: `{}`},
		{conf: `{"ipam": {"ranges": "nonsense"}}`}, // the IPAM plugin's to refuse
		{conf: `{"ipam": {"subnet": "10.0.0.0/33"}}`, err: "ipam.subnet"},
		{conf: `{"ipam": {"ranges": [[{"subnet": ""}]]}}`, err: "ipam.ranges[0][0].subnet"},
		{conf: `{"ipam": {"ranges": [[` + strings.Repeat(`{"subnet": "10.0.0.0/24"},`, MaxSubnets) + `{"subnet": "10.0.0.0/24"}]]}}`, err: "more than"},
	} {
		got, err := IPAMSubnets([]byte(tc.conf))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("IPAMSubnets(%s) error = %v, want one naming %q", tc.conf, err, tc.err)
			}
			continue
		}
		var rendered []string
		for _, s := range got {
			rendered = append(rendered, s.Key+"="+s.Prefix.String())
		}
		if err != nil || strings.Join(rendered, " ") != strings.Join(tc.want, " ") {
			t.Errorf("IPAMSubnets(%s) = %v, %v; want %v", tc.conf, rendered, err, tc.want)
		}
	}
}

// FuzzPodSubnetProblem checks that no accepted subnet is zero-length,
// mapped, or contains a reserved address.
func FuzzPodSubnetProblem(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "0.0.0.0/0", "::ffff:1.2.3.4/128", "127.0.0.1/32", "fd00::/8", "224.0.0.0/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := netip.ParsePrefix(s)
		if err != nil || PodSubnetProblem(p) != "" {
			return
		}
		m := p.Masked()
		if m.Bits() == 0 || m.Addr().Is4In6() {
			t.Fatalf("PodSubnetProblem accepted %s", s)
		}
		for _, a := range []string{"0.0.0.0", "127.0.0.1", "169.254.1.1", "224.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "ff02::1"} {
			if m.Contains(netip.MustParseAddr(a)) {
				t.Fatalf("PodSubnetProblem accepted %s, which contains %s", s, a)
			}
		}
	})
}

// TestFamiliesOf: the node's addresses are listed only in the families
// the subnets use; an IPv4-mapped IPv6 prefix counts as IPv4.
func TestFamiliesOf(t *testing.T) {
	kp := func(s string) KeyedPrefix { return KeyedPrefix{Key: "k", Prefix: netip.MustParsePrefix(s)} }
	for _, tc := range []struct {
		subnets []KeyedPrefix
		want    Families
	}{
		{nil, Families{}},
		{[]KeyedPrefix{kp("10.1.0.0/24")}, Families{V4: true}},
		{[]KeyedPrefix{kp("fd00::/64")}, Families{V6: true}},
		{[]KeyedPrefix{kp("::ffff:10.1.0.0/120")}, Families{V4: true}},
		{[]KeyedPrefix{kp("fd00::/64"), kp("10.1.0.0/24")}, Families{V4: true, V6: true}},
	} {
		if got := FamiliesOf(tc.subnets); got != tc.want {
			t.Errorf("FamiliesOf(%v) = %+v, want %+v", tc.subnets, got, tc.want)
		}
	}
}

// TestWithin: an allocated prefix inside a configured subnet was checked
// with it; a wider one or one elsewhere was not.
func TestWithin(t *testing.T) {
	subnets := []KeyedPrefix{{Key: "ipam.subnet", Prefix: netip.MustParsePrefix("10.22.0.0/16")}, {Key: "ipam.ranges[1][0].subnet", Prefix: netip.MustParsePrefix("fd00:1::/64")}}
	for _, tc := range []struct {
		p    string
		want bool
	}{
		{"10.22.0.5/16", true},
		{"10.22.3.5/24", true},
		{"10.22.0.5/8", false},
		{"10.23.0.5/16", false},
		{"fd00:1::5/64", true},
		{"fd00:2::5/64", false},
	} {
		if got := Within(netip.MustParsePrefix(tc.p), subnets); got != tc.want {
			t.Errorf("Within(%s) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if Within(netip.MustParsePrefix("10.22.0.5/16"), nil) {
		t.Error("Within(_, nil) = true, want false")
	}
}
