package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/internal/verbtest"
)

// TestRefuseEarly covers the refusals ADD makes before its first side
// effect that need more than the config: each comes with its code, names
// the variable or key and the value, and leaves the fake world unchanged.
func TestRefuseEarly(t *testing.T) {
	_, ipn, _ := net.ParseCIDR("10.9.0.2/24")
	for _, tc := range []struct {
		name   string
		ifname string
		prep   func(n *fakeNode, c *Config)
		code   uint
		want   []string
	}{
		{name: "CNI_IFNAME with ..", ifname: "a..b", code: types.ErrInvalidEnvironmentVariables, want: []string{"CNI_IFNAME", "a..b"}},
		{name: "CNI_IFNAME default", ifname: "default", code: types.ErrInvalidEnvironmentVariables, want: []string{"CNI_IFNAME", `"default"`}},
		{name: "inherited key read-only on the host", prep: func(n *fakeNode, _ *Config) {
			if err := os.Chmod(filepath.Join(n.hostProc, "net/ipv4/tcp_keepalive_intvl"), 0o444); err != nil {
				t.Fatal(err)
			}
		}, code: types.ErrInvalidNetworkConfig, want: []string{"inheritSysctls", "net.ipv4.tcp_keepalive_intvl", "read-only"}},
		{name: "prevResult over its bounds", prep: func(_ *fakeNode, c *Config) {
			c.PrevResult = &current.Result{IPs: slices.Repeat([]*current.IPConfig{{Address: *ipn}}, 65)}
		}, code: types.ErrInvalidNetworkConfig, want: []string{"prevResult.ips", "65 entries"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			args := cmdArgs("c1", "/run/netns/c1", testConf)
			if tc.ifname != "" {
				args.IfName = tc.ifname
			}
			p := n.plugin()
			c, err := Load(args.StdinData, args.Args)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.prep != nil {
				tc.prep(n, c)
			}
			before := n.String()
			err = p.refuseEarly(c, args)
			verbtest.Refused(t, err, tc.code, tc.want, before, n.String())
		})
	}
}
