package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	current "github.com/containernetworking/cni/pkg/types/100"
)

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

// A pod whose netns (and so its veth) is gone leaves only its IPAM
// reservation; GC must release it, since host-local has no GC of its own.
func TestGCReleasesReservationsWithoutVeth(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1", "/run/netns/c2")
	p := n.plugin()
	for _, id := range []string{"c1", "c2"} {
		n.attachment = id + "/eth0"
		if _, err := add(t, p, cmdArgs(id, "/run/netns/"+id)); err != nil {
			t.Fatal(err)
		}
	}
	delete(n.links, hostVethName("unit", "c1", "eth0")) // died with its netns
	conf := strings.Replace(testConf, `"ipam"`, `"cni.dev/valid-attachments": [{"containerID": "c2", "ifname": "eth0"}], "ipam"`, 1)
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(conf)}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if _, ok := n.ipam["c1/eth0"]; ok {
		t.Error("GC kept the reservation of an attachment that is not valid")
	}
	if _, ok := n.ipam["c2/eth0"]; !ok {
		t.Error("GC released the reservation of a valid attachment")
	}
}

// A runtime may hand a result cached by an older version to a newer
// config's DEL or CHECK; it is read in its own version.
func TestLoadReadsPrevResultInItsOwnVersion(t *testing.T) {
	ip, ipnet, _ := net.ParseCIDR("10.22.0.2/16")
	ipnet.IP = ip
	res := &current.Result{CNIVersion: "1.1.0", IPs: []*current.IPConfig{{Address: *ipnet}}}
	old, err := res.GetAsVersion("0.4.0")
	if err != nil {
		t.Fatal(err)
	}
	prev, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(testConf, `"ipam"`, `"prevResult": `+string(prev)+`, "ipam"`, 1)
	c, err := Load([]byte(conf), "", 4)
	if err != nil {
		t.Fatalf("Load with a 0.4.0 prevResult: %v", err)
	}
	if len(c.PrevResult.IPs) != 1 || c.PrevResult.IPs[0].Address.String() != "10.22.0.2/16" {
		t.Errorf("prevResult IPs = %v", c.PrevResult.IPs)
	}
}
