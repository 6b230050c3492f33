package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/internal/verbtest"
)

// A pod whose netns (and so its veth) is gone leaves only its IPAM
// reservation; GC must release it, since host-local has no GC of its own.
func TestGCReleasesReservationsWithoutVeth(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1", "/run/netns/c2")
	p := n.plugin()
	for _, id := range []string{"c1", "c2"} {
		n.ipam.Attachment = id + "/eth0"
		if _, err := add(t, p, cmdArgs(id, "/run/netns/"+id)); err != nil {
			t.Fatal(err)
		}
	}
	delete(n.links, hostVethName("unit", "c1", "eth0")) // died with its netns
	conf := verbtest.WithValidAttachments(testConf, "c2")
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(conf)}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	verbtest.GCKept(t, n.ipam.Reserved, "c1/eth0", "c2/eth0")
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
