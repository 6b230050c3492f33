//go:build integration

package vethbridge

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// slaveLink is `ip -j -d link` for a bridge port, with the bridge-port
// attributes the upstream keys set.
type slaveLink struct {
	Name     string   `json:"ifname"`
	MTU      int      `json:"mtu"`
	Flags    []string `json:"flags"`
	Promisc  int      `json:"promiscuity"`
	Address  string   `json:"address"`
	LinkInfo struct {
		Kind      string `json:"info_kind"`
		SlaveData struct {
			Hairpin  bool `json:"hairpin"`
			Isolated bool `json:"isolated"`
		} `json:"info_slave_data"`
	} `json:"linkinfo"`
}

func showLink(t *testing.T, ns nstest.Netns, name string) slaveLink {
	t.Helper()
	var out []slaveLink
	if err := json.Unmarshal([]byte(nstest.Run(t, "ip", "-j", "-d", "-n", ns.Name, "link", "show", "dev", name)), &out); err != nil || len(out) != 1 {
		t.Fatalf("ip -j -d link show %s: %v", name, err)
	}
	return out[0]
}

// TestUpstreamBridgeKeys checks that the upstream bridge plugin's keys do
// what they do there, in the kernel's words.
func TestUpstreamBridgeKeys(t *testing.T) {
	p := plugin("keys", []string{"10.53.0.0/24"}, map[string]any{
		"mtu": 1400, "hairpinMode": true, "promiscMode": true, "portIsolation": true,
		"capabilities": map[string]bool{"mac": true},
	})
	s := newSetup(t, conflist("1.1.0", "keys", p), 1)
	s.conts[0].Caps = map[string]any{"mac": "02:42:0a:35:00:99"}
	s.add(t, 0)
	br := showLink(t, s.node.Host, "nstbr0")
	if br.MTU != 1400 || br.Promisc == 0 {
		t.Errorf("bridge mtu=%d promiscuity=%d, want 1400 and promiscuous", br.MTU, br.Promisc)
	}
	veth := showLink(t, s.node.Host, hostVeths(t, s.node)[0])
	if veth.MTU != 1400 || !veth.LinkInfo.SlaveData.Hairpin || !veth.LinkInfo.SlaveData.Isolated {
		t.Errorf("host veth mtu=%d hairpin=%v isolated=%v, want 1400, true, true",
			veth.MTU, veth.LinkInfo.SlaveData.Hairpin, veth.LinkInfo.SlaveData.Isolated)
	}
	eth0 := showLink(t, s.conts[0].Netns, "eth0")
	if eth0.MTU != 1400 || eth0.Address != "02:42:0a:35:00:99" {
		t.Errorf("container eth0 mtu=%d mac=%s, want 1400 and the runtime's MAC", eth0.MTU, eth0.Address)
	}
	if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
		t.Errorf("CHECK: %v", err)
	}
}

func TestForceAddress(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(map[bool]string{false: "refused", true: "replaced"}[force], func(t *testing.T) {
			s := newSetup(t, conflist("1.1.0", "force", plugin("force", []string{"10.54.0.0/24"},
				map[string]any{"forceAddress": force})), 1)
			// The operator left another address of the pod subnet on the bridge.
			nstest.Run(t, "ip", "-n", s.node.Host.Name, "link", "add", "nstbr0", "type", "bridge")
			nstest.Run(t, "ip", "-n", s.node.Host.Name, "addr", "add", "10.54.0.200/24", "dev", "nstbr0")
			_, err := s.node.Add(t, s.list, s.conts[0])
			addrs := s.node.Host.Addrs(t, "nstbr0")
			if !force {
				if err == nil || !strings.Contains(err.Error(), "forceAddress") {
					t.Fatalf("ADD = %v, want a refusal naming forceAddress", err)
				}
				if !slices.Equal(addrs, []string{"10.54.0.200/24"}) {
					t.Errorf("refused ADD changed the bridge addresses: %v", addrs)
				}
				wantReservations(t, s.node, "force", 0)
				return
			}
			if err != nil {
				t.Fatalf("ADD with forceAddress: %v", err)
			}
			t.Cleanup(func() { _ = s.node.Del(t, s.list, s.conts[0]) })
			if !slices.Equal(addrs, []string{"10.54.0.1/24"}) {
				t.Errorf("bridge addresses %v, want the gateway only", addrs)
			}
		})
	}
}

// TestAccessVLAN needs a kernel with bridge VLAN filtering; the suite also
// runs in the VM (make test-vethbridge-vm), whose kernel has it.
func TestAccessVLAN(t *testing.T) {
	probe := nstest.NewNetns(t, "vlanprobe")
	if _, err := probe.TryExec("ip", "link", "add", "nstprobe", "type", "bridge", "vlan_filtering", "1"); err != nil {
		if os.Getenv("NETSTEER_IN_VM") != "" {
			t.Fatalf("the VM's kernel has no bridge VLAN filtering: %v", err)
		}
		t.Skip("this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING); `make test-vethbridge-vm` runs this test on a kernel that has it")
	}
	s := newSetup(t, conflist("1.1.0", "vlan", plugin("vlan", []string{"10.55.0.0/24"}, map[string]any{"vlan": 100})), 1)
	s.add(t, 0)
	veth := hostVeths(t, s.node)[0]
	out := nstest.Run(t, "bridge", "-n", s.node.Host.Name, "-j", "vlan", "show", "dev", veth)
	var ports []struct {
		Vlans []struct {
			Vlan  int      `json:"vlan"`
			Flags []string `json:"flags"`
		} `json:"vlans"`
	}
	if err := json.Unmarshal([]byte(out), &ports); err != nil || len(ports) != 1 {
		t.Fatalf("bridge -j vlan show: %v: %s", err, out)
	}
	found := false
	for _, v := range ports[0].Vlans {
		if v.Vlan == 100 && slices.Contains(v.Flags, "PVID") && slices.Contains(v.Flags, "Egress Untagged") {
			found = true
		}
	}
	if !found {
		t.Errorf("port %s vlans %s, want 100 PVID Egress Untagged", veth, out)
	}
}
