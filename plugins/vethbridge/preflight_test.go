package main

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/internal/verbtest"
)

// TestRefuseEarly covers the refusals that need more than the config and
// must come before ADD's first side effect: each is refused with its code,
// naming the key and value, and the fake world is unchanged.
func TestRefuseEarly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(conf string) string
		ifname string
		prep   func(n *fakeNode)
		code   uint
		want   []string
	}{
		{name: "CNI_IFNAME with ..", ifname: "a..b", code: types.ErrInvalidEnvironmentVariables, want: []string{"CNI_IFNAME", "a..b"}},
		{name: "CNI_IFNAME all", ifname: "all", code: types.ErrInvalidEnvironmentVariables, want: []string{"CNI_IFNAME", `"all"`}},
		{name: "bridge is an existing non-bridge",
			edit: func(c string) string { return strings.Replace(c, `"bridge": "nstbr0"`, `"bridge": "nstup"`, 1) },
			code: types.ErrInvalidNetworkConfig, want: []string{`"bridge"`, "nstup", "not a bridge"}},
		{name: "subnet holds the node's address",
			edit: func(c string) string {
				return strings.Replace(c, `"ipam": {"type": "fake"}`, `"ipam": {"type": "fake", "subnet": "192.0.2.0/24"}`, 1)
			},
			code: types.ErrInvalidNetworkConfig, want: []string{"ipam.subnet", "192.0.2.0/24", "192.0.2.10 on nstup"}},
		{name: "IPv6 range holds the node's address",
			edit: func(c string) string {
				return strings.Replace(c, `"ipam": {"type": "fake"}`,
					`"ipam": {"type": "fake", "ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "2001:db8:ff::/64"}]]}`, 1)
			},
			code: types.ErrInvalidNetworkConfig, want: []string{"ipam.ranges[1][0].subnet", "2001:db8:ff::/64", "2001:db8:ff::10 on nstup"}},
		{name: "CNI_IFNAME exists in the pod",
			prep: func(n *fakeNode) { n.netns["/run/netns/c1"]["eth0"] = ContainerState{} },
			code: types.ErrInvalidEnvironmentVariables, want: []string{"CNI_IFNAME", "eth0", "already exists"}},
		{name: "two refusals: the first in order answers",
			edit: func(c string) string { return strings.Replace(c, `"bridge": "nstbr0"`, `"bridge": "nstup"`, 1) },
			prep: func(n *fakeNode) { n.netns["/run/netns/c1"]["eth0"] = ContainerState{} },
			code: types.ErrInvalidNetworkConfig, want: []string{`"bridge"`, "nstup", "not a bridge"}},
		{name: "inherited key read-only on the host",
			prep: func(n *fakeNode) {
				if err := os.Chmod(filepath.Join(n.hostProc, "net/ipv4/tcp_keepalive_intvl"), 0o444); err != nil {
					t.Fatal(err)
				}
			},
			code: types.ErrInvalidNetworkConfig, want: []string{"inheritSysctls", "net.ipv4.tcp_keepalive_intvl", "read-only"}},
		{name: "inherited key missing on the host",
			edit: func(c string) string {
				return strings.Replace(c, `"net.ipv4.tcp_keepalive_intvl"`, `"net.ipv4.tcp_nothing"`, 1)
			},
			code: types.ErrInvalidNetworkConfig, want: []string{"inheritSysctls", "net.ipv4.tcp_nothing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			if tc.prep != nil {
				tc.prep(n)
			}
			args := cmdArgs("c1", "/run/netns/c1")
			if tc.ifname != "" {
				args.IfName = tc.ifname
			}
			if tc.edit != nil {
				args.StdinData = []byte(tc.edit(testConf))
			}
			p := n.plugin()
			c, err := Load(args.StdinData, args.Args, 4)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			before := n.String()
			err = p.refuseEarly(c, args, fakeNS(args))
			verbtest.Refused(t, err, tc.code, tc.want, before, n.String())
		})
	}
}

// TestAllocatedAddressesChecked: what IPAM hands out must pass the test
// configured subnets pass (it becomes masquerade and forward rules), and
// the node's addresses are listed again only for an address no configured
// subnet covers.
func TestAllocatedAddressesChecked(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ipamConf   string // replaces {"type": "fake"}
		ipamSubnet string // what the fake IPAM hands out
		wantErr    []string
		wantLists  int32 // NodeAddrs calls: refuseEarly's and checkAllocated's
	}{
		{name: "undeclared subnet holding the node's address", ipamConf: `{"type": "fake"}`, ipamSubnet: "192.0.2.0/24",
			wantErr: []string{"ipam (allocated address)", "192.0.2.2/24", "192.0.2.10 on nstup"}, wantLists: 1},
		{name: "undeclared subnet", ipamConf: `{"type": "fake"}`, ipamSubnet: "10.22.0.0/16", wantLists: 1},
		{name: "declared subnet: checked up front only", ipamConf: `{"type": "fake", "subnet": "10.22.0.0/16"}`, ipamSubnet: "10.22.0.0/16", wantLists: 1},
		{name: "address outside the declared subnet", ipamConf: `{"type": "fake", "subnet": "10.23.0.0/16"}`, ipamSubnet: "10.22.0.0/16", wantLists: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			n.ipam.Subnet = netip.MustParsePrefix(tc.ipamSubnet)
			n.ipam.Attachment = "c1/eth0"
			args := cmdArgs("c1", "/run/netns/c1")
			args.StdinData = []byte(strings.Replace(testConf, `"ipam": {"type": "fake"}`, `"ipam": `+tc.ipamConf, 1))
			p := n.plugin()
			c, err := p.load(args)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			before := n.perAttachment()
			if err := p.refuseEarly(c, args, fakeNS(args)); err != nil {
				t.Fatalf("refuseEarly: %v", err)
			}
			_, err = p.add(c, args, fakeNS(args))
			if tc.wantErr == nil && err != nil {
				t.Fatalf("ADD: %v", err)
			}
			if tc.wantErr != nil {
				var te *types.Error
				if !errors.As(err, &te) || te.Code != types.ErrInvalidNetworkConfig {
					t.Fatalf("ADD = %v, want code 7", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(te.Msg, w) {
						t.Errorf("message %q does not name %q", te.Msg, w)
					}
				}
				if after := n.perAttachment(); after != before {
					t.Errorf("refused ADD left per-attachment state:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			}
			if got := n.nodeAddrLists.Load(); got != tc.wantLists {
				t.Errorf("node addresses listed %d times, want %d", got, tc.wantLists)
			}
		})
	}
}
