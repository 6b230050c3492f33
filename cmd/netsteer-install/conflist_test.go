package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

const testTemplate = `{"cniVersion":"1.0.0","name":"netsteer","plugins":[{"type":"vethbridge",
 "ipam":{"type":"host-local","ranges":[{{range $i, $c := .PodCIDRRanges}}{{if $i}},{{end}}[{"subnet":"{{$c}}"}]{{end}}]}}]}`

func TestParsePodCIDRs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"10.244.1.0/24", []string{"10.244.1.0/24"}, ""},
		{"10.244.1.0/24, fd00:1::/64", []string{"10.244.1.0/24", "fd00:1::/64"}, ""},
		{"10.244.1.5/24", nil, "host bits set (want 10.244.1.0/24)"},
		{"10.244.1.0", nil, "parsing pod CIDR"},
		{"", nil, "parsing pod CIDR"},
		{"10.244.1.0/24,", nil, "parsing pod CIDR"},
		{"0.0.0.0/0", nil, "zero-length"},
		{"::/0", nil, "zero-length"},
		{"::ffff:10.244.0.0/120", nil, "IPv4-mapped"},
		{"::ffff:0:0/96", nil, "IPv4-mapped"},
		{"127.0.0.0/8", nil, "loopback"},
		{"224.0.0.0/4", nil, "multicast"},
		{"10.244.1.0/24,10.244.2.0/24", nil, "one family"},
		{"10.1.0.0/24,fd00::/64,10.2.0.0/24", nil, "at most two"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePodCIDRs(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parsePodCIDRs(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("parsePodCIDRs(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRenderConflist(t *testing.T) {
	tests := []struct {
		name     string
		template string
		cidrs    []string
		want     string // substring of the output
		wantErr  string
	}{
		{"single", `{"name":"n","plugins":[{"subnet":"{{.PodCIDR}}"}]}`, []string{"10.244.1.0/24"}, `"subnet":"10.244.1.0/24"`, ""},
		{"dual stack ranges", testTemplate, []string{"10.244.1.0/24", "fd00:1::/64"}, `[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:1::/64"}]`, ""},
		{"unknown field", `{"name":"n","plugins":[{"subnet":"{{.NodeCIDR}}"}]}`, []string{"10.244.1.0/24"}, "", "rendering conflist template"},
		{"bad template", `{{.PodCIDR`, []string{"10.244.1.0/24"}, "", "parsing conflist template"},
		{"not json", `{"name":"n","plugins":[{"subnet":{{.PodCIDR}}}]}`, []string{"10.244.1.0/24"}, "", "not JSON"},
		{"no plugins", `{"name":"n","type":"vethbridge"}`, []string{"10.244.1.0/24"}, "", "lacks a name or plugins"},
		{"no name", `{"plugins":[{}]}`, []string{"10.244.1.0/24"}, "", "lacks a name or plugins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderConflist(tt.template, tt.cidrs, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("renderConflist = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(string(got), tt.want) {
				t.Fatalf("renderConflist = %q, %v; want it to contain %q", got, err, tt.want)
			}
		})
	}
}

func TestRenderNoMasqueradeCIDRs(t *testing.T) {
	const tmpl = `{"name":"n","plugins":[{"noMasqueradeCIDRs":{{.NoMasqueradeCIDRs}}}]}`
	svc := netip.MustParsePrefix("10.96.0.0/12")
	tests := []struct {
		name    string
		cidrs   []string
		noMasq  *podroutes.NoMasq
		want    string
		wantErr string
	}{
		{"the cluster CIDR and the Service CIDR", []string{"10.244.7.0/24"}, &podroutes.NoMasq{Bits4: 16, Extra: []netip.Prefix{svc}},
			`"noMasqueradeCIDRs":["10.96.0.0/12","10.244.0.0/16"]`, ""},
		{"dual stack", []string{"10.244.7.0/24", "fd00:10:244:7::/64"}, &podroutes.NoMasq{Bits4: 16, Bits6: 56},
			`"noMasqueradeCIDRs":["10.244.0.0/16","fd00:10:244::/56"]`, ""},
		{"one node's range is the cluster", []string{"10.244.7.0/24"}, &podroutes.NoMasq{Bits4: 24}, `["10.244.7.0/24"]`, ""},
		{"no prefix given", []string{"10.244.7.0/24"}, nil, "", "-cluster-prefix"},
		{"prefix longer than the node's range", []string{"10.244.7.0/24"}, &podroutes.NoMasq{Bits4: 28}, "", "-cluster-prefix 28"},
		{"IPv6 range without its prefix", []string{"10.244.7.0/24", "fd00::/64"}, &podroutes.NoMasq{Bits4: 16}, "", "-cluster-prefix6 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderConflist(tmpl, tt.cidrs, tt.noMasq)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("renderConflist = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(string(got), tt.want) {
				t.Fatalf("renderConflist = %q, %v; want it to contain %q", got, err, tt.want)
			}
		})
	}
}
