package main

import "testing"

func TestIPAMFamilies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		conf   string
		v4, v6 bool
	}{
		{"subnet v4", `{"ipam": {"subnet": "10.1.0.0/16"}}`, true, false},
		{"ranges dual stack", `{"ipam": {"ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "fd00::/64"}]]}}`, true, true},
		{"ranges v6 only", `{"ipam": {"ranges": [[{"subnet": "fd00::/64"}]]}}`, false, true},
		{"static addresses", `{"ipam": {"addresses": [{"address": "fd00::5/64"}]}}`, false, true},
		{"ipv4-mapped counts as v4", `{"ipam": {"subnet": "::ffff:10.1.0.0/112"}}`, true, false},
		{"nothing named is v4", `{"ipam": {"type": "dhcp"}}`, true, false},
		{"garbage subnet ignored", `{"ipam": {"subnet": "nope", "ranges": [[{"subnet": "fd00::/64"}]]}}`, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v4, v6 := ipamFamilies([]byte(tc.conf)); v4 != tc.v4 || v6 != tc.v6 {
				t.Errorf("ipamFamilies = %v, %v; want %v, %v", v4, v6, tc.v4, tc.v6)
			}
		})
	}
}
