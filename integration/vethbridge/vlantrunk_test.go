//go:build integration

package vethbridge

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// kernelFiltersVLANs reports whether this kernel has bridge VLAN
// filtering, by making a filtering bridge in a netns of its own.
func kernelFiltersVLANs(t *testing.T) bool {
	t.Helper()
	probe := nstest.NewNetns(t, "vlanprobe")
	_, err := probe.TryExec("ip", "link", "add", "nstprobe", "type", "bridge", "vlan_filtering", "1")
	return err == nil
}

// portVLANTable is `bridge -j vlan show dev $port` as "vid:flags" items
// in the kernel's order, ranges expanded.
func portVLANTable(t *testing.T, ns nstest.Netns, port string) []string {
	t.Helper()
	out := nstest.Run(t, "bridge", "-n", ns.Name, "-j", "vlan", "show", "dev", port)
	var ports []struct {
		Vlans []struct {
			Vlan    int      `json:"vlan"`
			VlanEnd int      `json:"vlanEnd"`
			Flags   []string `json:"flags"`
		} `json:"vlans"`
	}
	if err := json.Unmarshal([]byte(out), &ports); err != nil || len(ports) != 1 {
		t.Fatalf("bridge -j vlan show dev %s: %v: %s", port, err, out)
	}
	var got []string
	for _, v := range ports[0].Vlans {
		for vid := v.Vlan; vid <= max(v.Vlan, v.VlanEnd); vid++ {
			got = append(got, fmt.Sprintf("%d:%s", vid, strings.Join(v.Flags, ",")))
		}
	}
	return got
}

// TestVLANTrunk checks vlanTrunk and preserveDefaultVlan in what `bridge
// vlan show` reports for the pod's port, on a kernel with bridge VLAN
// filtering (the VM's: make test-vethbridge-vm). On one without it (this
// suite's native run), ADD must refuse the keys by name and leave nothing.
func TestVLANTrunk(t *testing.T) {
	filters := kernelFiltersVLANs(t)
	if !filters && os.Getenv("NETSTEER_IN_VM") != "" {
		t.Fatal("the VM's kernel has no bridge VLAN filtering")
	}
	for _, tc := range []struct {
		name string
		keys map[string]any
		want []string
	}{
		{"trunk only: VLAN 1 native, trunk tagged, default replaced",
			map[string]any{"vlanTrunk": []map[string]int{{"id": 20}, {"minID": 10, "maxID": 12}}},
			[]string{"1:PVID,Egress Untagged", "10:", "11:", "12:", "20:"}},
		{"access and trunk: the default VLAN removed",
			map[string]any{"vlan": 100, "vlanTrunk": []map[string]int{{"id": 200}}},
			[]string{"100:PVID,Egress Untagged", "200:"}},
		{"preserveDefaultVlan keeps VLAN 1, no longer PVID",
			map[string]any{"vlan": 100, "preserveDefaultVlan": true},
			[]string{"1:Egress Untagged", "100:PVID,Egress Untagged"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, conflist("1.1.0", "trunk", plugin("trunk", []string{"10.57.0.0/24"}, tc.keys)), 1)
			if !filters {
				_, err := s.node.Add(t, s.list, s.conts[0])
				if err == nil || !strings.Contains(err.Error(), "needs bridge VLAN filtering") || !strings.Contains(err.Error(), "CONFIG_BRIDGE_VLAN_FILTERING") {
					t.Fatalf("ADD on a kernel without VLAN filtering = %v, want a refusal naming the key", err)
				}
				if v := hostVeths(t, s.node); len(v) != 0 {
					t.Errorf("refused ADD left host veths %v", v)
				}
				wantReservations(t, s.node, "trunk", 0)
				return
			}
			s.add(t, 0)
			got := portVLANTable(t, s.node.Host, hostVeths(t, s.node)[0])
			if !slices.Equal(got, tc.want) {
				t.Errorf("port VLANs %q, want %q", got, tc.want)
			}
			// CHECK's model of the table ADD leaves must match the kernel's.
			if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
				t.Errorf("CHECK after ADD: %v", err)
			}
		})
	}
}

// TestCheckPortVLANs changes the pod port's VLANs behind the plugin's back
// and expects CHECK to name the VLAN; without vlan keys CHECK does not
// look at VLANs, which also keeps it working on a kernel without bridge
// VLAN filtering (this suite's native run).
func TestCheckPortVLANs(t *testing.T) {
	filters := kernelFiltersVLANs(t)
	if !filters && os.Getenv("NETSTEER_IN_VM") != "" {
		t.Fatal("the VM's kernel has no bridge VLAN filtering")
	}
	t.Run("no vlan keys: VLANs not compared", func(t *testing.T) {
		s := newSetup(t, conflist("1.1.0", "novlan", plugin("novlan", []string{"10.58.0.0/24"}, nil)), 1)
		s.add(t, 0)
		if filters {
			port := hostVeths(t, s.node)[0]
			nstest.Run(t, "bridge", "-n", s.node.Host.Name, "vlan", "add", "dev", port, "vid", "30", "master")
		}
		if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
			t.Fatalf("CHECK without vlan keys: %v", err)
		}
	})
	t.Run("vlanTrunk: drift named", func(t *testing.T) {
		if !filters {
			t.Skip("this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING); `make test-vethbridge-vm` runs this test on a kernel that has it")
		}
		keys := map[string]any{"vlanTrunk": []map[string]int{{"minID": 10, "maxID": 11}}}
		s := newSetup(t, conflist("1.1.0", "trunk", plugin("trunk", []string{"10.58.0.0/24"}, keys)), 1)
		s.add(t, 0)
		port := hostVeths(t, s.node)[0]
		if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
			t.Fatalf("CHECK after ADD: %v", err)
		}
		bridge := func(args ...string) {
			t.Helper()
			nstest.Run(t, append([]string{"bridge", "-n", s.node.Host.Name, "vlan"}, args...)...)
		}
		for _, step := range []struct {
			change, restore []string
			want            string
		}{
			{[]string{"del", "dev", port, "vid", "11", "master"},
				[]string{"add", "dev", port, "vid", "11", "master"},
				"host veth " + port + ": VLAN 11 missing, want tagged"},
			{[]string{"add", "dev", port, "vid", "30", "master"},
				[]string{"del", "dev", port, "vid", "30", "master"},
				"host veth " + port + ": VLAN 30 (tagged) is not in the config"},
			{[]string{"add", "dev", port, "vid", "10", "untagged", "master"},
				[]string{"add", "dev", port, "vid", "10", "master"},
				"host veth " + port + ": VLAN 10 is untagged, want tagged"},
			{[]string{"add", "dev", port, "vid", "11", "pvid", "master"},
				[]string{"add", "dev", port, "vid", "1", "pvid", "untagged", "master"},
				"host veth " + port + ": VLAN 1 is untagged, want pvid untagged"},
		} {
			bridge(step.change...)
			err := s.node.Check(t, s.list, s.conts[0])
			if err == nil || !strings.Contains(err.Error(), step.want) {
				t.Errorf("after bridge vlan %s: CHECK = %v, want it to mention %q", strings.Join(step.change, " "), err, step.want)
			}
			bridge(step.restore...)
			if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
				t.Fatalf("after bridge vlan %s: CHECK = %v, want it to pass", strings.Join(step.restore, " "), err)
			}
		}
	})
}
