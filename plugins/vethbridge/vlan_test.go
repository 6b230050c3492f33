package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

func TestLoadUpstreamKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		raw   []byte
		check func(*Config) bool
	}{
		{"absent: no trunk, no filtering, checks off", conf(""), func(c *Config) bool {
			return c.VLANTrunk == nil && !c.vlanFiltering() && !c.PreserveDefaultVLAN && !c.MacSpoofChk && !c.DisableContainerInterface
		}},
		{"vlanTrunk null is absent", conf(`"vlanTrunk": null`), func(c *Config) bool { return c.VLANTrunk == nil && !c.vlanFiltering() }},
		{"vlanTrunk empty still filters, as upstream", conf(`"vlanTrunk": []`), func(c *Config) bool { return c.VLANTrunk != nil && c.vlanFiltering() }},
		{"vlanTrunk ids and ranges sorted and deduplicated", conf(`"vlanTrunk": [{"id": 7}, {"minID": 3, "maxID": 5}, {"id": 4}, {"minID": 5, "maxID": 6, "id": 9}]`),
			func(c *Config) bool { return slices.Equal(c.VLANTrunk, []int{3, 4, 5, 6, 7, 9}) }},
		{"vlanTrunk whole range", conf(`"vlanTrunk": [{"minID": 1, "maxID": 4094}]`), func(c *Config) bool { return len(c.VLANTrunk) == 4094 }},
		{"preserveDefaultVlan", conf(`"vlan": 5, "preserveDefaultVlan": true`), func(c *Config) bool { return c.PreserveDefaultVLAN }},
		{"macspoofchk", conf(`"macspoofchk": true`), func(c *Config) bool { return c.MacSpoofChk }},
		{"disableContainerInterface without ipam", []byte(`{"cniVersion": "1.1.0", "name": "l2", "type": "vethbridge", "disableContainerInterface": true}`),
			func(c *Config) bool { return c.DisableContainerInterface }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.raw, "", 4)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.check(c) {
				t.Errorf("config %+v does not hold what %s sets", c, tc.raw)
			}
		})
	}
}

func TestLoadVLANTrunkErrors(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{`"vlanTrunk": [{"id": 0}]`, `"vlanTrunk[0].id" = "0": must be 1..4094`},
		{`"vlanTrunk": [{"id": 4095}]`, `"vlanTrunk[0].id" = "4095"`},
		{`"vlanTrunk": [{"id": 2}, {"minID": 0, "maxID": 3}]`, `"vlanTrunk[1].minID" = "0"`},
		{`"vlanTrunk": [{"minID": 1, "maxID": 4095}]`, `"vlanTrunk[0].maxID" = "4095"`},
		{`"vlanTrunk": [{"minID": 9, "maxID": 3}]`, "greater than maxID 3"},
		{`"vlanTrunk": [{"minID": 9}]`, "maxID is missing"},
		{`"vlanTrunk": [{"maxID": 9}]`, "minID is missing"},
		{`"vlanTrunk": [{}]`, `needs "id" or "minID" and "maxID"`},
		{`"vlanTrunk": [{"vid": 3}]`, `unknown field "vid"`},
		{`"vlanTrunk": {"id": 3}`, `"vlanTrunk"`},
		{`"vlan": 10, "vlanTrunk": [{"minID": 5, "maxID": 15}]`, "access vlan cannot also be a trunk VLAN"},
	} {
		t.Run(tc.extra, func(t *testing.T) {
			_, err := Load(conf(tc.extra), "", 4)
			var te *types.Error
			if !errors.As(err, &te) || te.Code != types.ErrInvalidNetworkConfig || !strings.Contains(te.Msg, tc.want) {
				t.Fatalf("Load = %v, want code 7 naming %q", err, tc.want)
			}
		})
	}
}

// The port's VLAN table is upstream bridge's: access vlan as PVID and
// untagged, trunk VLANs tagged, VLAN 1 native when only a trunk is given,
// the kernel's default removed unless preserveDefaultVlan.
func TestPortVLANs(t *testing.T) {
	for _, tc := range []struct {
		extra string
		want  string
	}{
		{``, "flush=false []"},
		{`"vlanTrunk": []`, "flush=false []"},
		{`"vlan": 100`, "flush=true [100-100 pvid untagged]"},
		{`"vlan": 100, "preserveDefaultVlan": true`, "flush=false [100-100 pvid untagged]"},
		{`"vlanTrunk": [{"id": 20}, {"minID": 10, "maxID": 12}]`, "flush=true [10-12 20-20 1-1 pvid untagged]"},
		{`"vlanTrunk": [{"minID": 1, "maxID": 3}]`, "flush=true [2-3 1-1 pvid untagged]"},
		{`"vlan": 5, "vlanTrunk": [{"id": 1}, {"id": 6}], "preserveDefaultVlan": true`, "flush=false [5-5 pvid untagged 1-1 6-6]"},
	} {
		t.Run(tc.extra, func(t *testing.T) {
			c, err := Load(conf(tc.extra), "", 4)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderPortVLANs(c.portVLANs()); got != tc.want {
				t.Errorf("portVLANs = %s, want %s", got, tc.want)
			}
		})
	}
}

func renderPortVLANs(p PortVLANs) string {
	var vs []string
	for _, v := range p.Set {
		s := fmt.Sprintf("%d-%d", v.Min, v.Max)
		if v.PVID {
			s += " pvid"
		}
		if v.Untagged {
			s += " untagged"
		}
		vs = append(vs, s)
	}
	return fmt.Sprintf("flush=%v [%s]", p.Flush, strings.Join(vs, " "))
}

func TestVLANRefusalNamesTheKey(t *testing.T) {
	kernel := fmt.Errorf("bridge nstbr0: %w", errNoVLANFiltering)
	for _, tc := range []struct{ extra, want string }{
		{`"vlan": 100`, `"vlan" (value 100) needs bridge VLAN filtering`},
		{`"vlanTrunk": [{"id": 7}]`, `"vlanTrunk" (value [7]) needs bridge VLAN filtering`},
	} {
		c, err := Load(conf(tc.extra), "", 4)
		if err != nil {
			t.Fatal(err)
		}
		var te *types.Error
		if err := c.vlanRefusal(kernel); !errors.As(err, &te) || te.Code != types.ErrUnsupportedField ||
			!strings.Contains(te.Msg, tc.want) || !strings.Contains(te.Msg, "CONFIG_BRIDGE_VLAN_FILTERING") {
			t.Errorf("vlanRefusal = %v, want code 2 with %q", err, tc.want)
		}
	}
}

func TestPortVLANsTable(t *testing.T) {
	for _, tc := range []struct {
		extra       string
		defaultPVID int
		want        string
	}{
		{`"vlanTrunk": []`, 1, "1 pvid untagged"},
		{`"vlanTrunk": []`, 0, ""},
		{`"vlan": 100`, 1, "100 pvid untagged"},
		{`"vlan": 100, "preserveDefaultVlan": true`, 1, "1 untagged, 100 pvid untagged"},
		{`"vlan": 100, "preserveDefaultVlan": true`, 7, "7 untagged, 100 pvid untagged"},
		{`"vlanTrunk": [{"id": 20}, {"minID": 10, "maxID": 11}]`, 1, "1 pvid untagged, 10 tagged, 11 tagged, 20 tagged"},
		{`"vlanTrunk": [{"id": 20}], "preserveDefaultVlan": true`, 7, "1 pvid untagged, 7 untagged, 20 tagged"},
		{`"vlan": 5, "vlanTrunk": [{"id": 1}], "preserveDefaultVlan": true`, 1, "1 tagged, 5 pvid untagged"},
	} {
		t.Run(fmt.Sprintf("%s/default=%d", tc.extra, tc.defaultPVID), func(t *testing.T) {
			c, err := Load(conf(tc.extra), "", 4)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderVLANTable(c.portVLANs().table(tc.defaultPVID)); got != tc.want {
				t.Errorf("table = %q, want %q", got, tc.want)
			}
		})
	}
}

func renderVLANTable(m map[int]vlanFlags) string {
	var ids []int
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		out = append(out, fmt.Sprintf("%d %s", id, m[id]))
	}
	return strings.Join(out, ", ")
}

func TestDiffPortVLANs(t *testing.T) {
	access := vlanFlags{PVID: true, Untagged: true}
	tagged := vlanFlags{}
	want := map[int]vlanFlags{1: access, 10: tagged, 20: tagged}
	for _, tc := range []struct {
		name string
		got  map[int]vlanFlags
		err  string
	}{
		{"same", map[int]vlanFlags{1: access, 10: tagged, 20: tagged}, ""},
		{"missing", map[int]vlanFlags{1: access, 20: tagged}, "VLAN 10 missing, want tagged"},
		{"all missing", map[int]vlanFlags{}, "VLAN 1 missing, want pvid untagged"},
		{"pvid moved", map[int]vlanFlags{1: {Untagged: true}, 10: {PVID: true}, 20: tagged}, "VLAN 1 is untagged, want pvid untagged"},
		{"untagged", map[int]vlanFlags{1: access, 10: {Untagged: true}, 20: tagged}, "VLAN 10 is untagged, want tagged"},
		{"extra", map[int]vlanFlags{1: access, 10: tagged, 15: tagged, 20: tagged}, "VLAN 15 (tagged) is not in the config"},
		{"first by ID", map[int]vlanFlags{1: access, 5: tagged, 10: tagged}, "VLAN 5 (tagged) is not in the config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := diffPortVLANs(want, tc.got)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("diff = %v, want none", err)
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Fatalf("diff = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestCheckComparesPortVLANs(t *testing.T) {
	trunkConf := strings.Replace(testConf, `"ipMasq": true,`, `"ipMasq": true, "vlanTrunk": [{"minID": 10, "maxID": 11}],`, 1)
	port := hostVethName("unit", "c1", "eth0")
	for _, tc := range []struct {
		name   string
		conf   string
		tamper func(n *fakeNode)
		want   string
	}{
		{"untouched", trunkConf, func(*fakeNode) {}, ""},
		{"trunk VLAN removed", trunkConf, func(n *fakeNode) { delete(n.vlans[port], 11) },
			"host veth " + port + ": VLAN 11 missing, want tagged"},
		{"trunk VLAN untagged", trunkConf, func(n *fakeNode) { n.vlans[port][10] = vlanFlags{Untagged: true} },
			"host veth " + port + ": VLAN 10 is untagged, want tagged"},
		{"native VLAN lost its PVID", trunkConf, func(n *fakeNode) { n.vlans[port][1] = vlanFlags{Untagged: true} },
			"host veth " + port + ": VLAN 1 is untagged, want pvid untagged"},
		{"VLAN added", trunkConf, func(n *fakeNode) { n.vlans[port][30] = vlanFlags{} },
			"host veth " + port + ": VLAN 30 (tagged) is not in the config"},
		{"kernel without VLAN filtering", trunkConf, func(n *fakeNode) { n.fail["PortVLANs"] = errNoVLANFiltering },
			`config key "vlanTrunk" (value [10 11]) needs bridge VLAN filtering`},
		// Without vlan keys CHECK reads no VLANs, so neither a changed
		// table nor a kernel that cannot report one fails it.
		{"no vlan keys, VLAN added", testConf, func(n *fakeNode) { n.vlans[port][30] = vlanFlags{} }, ""},
		{"no vlan keys, no VLAN filtering", testConf, func(n *fakeNode) { n.fail["PortVLANs"] = errNoVLANFiltering }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCheck(t, tc.conf, tc.tamper, tc.want) })
	}
}
