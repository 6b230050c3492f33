package main

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/steps"
)

var _ SpoofChecker = (*fakeSpoofCheck)(nil)

type fakeSpoofCheck struct{ n *fakeNode }

func (f *fakeSpoofCheck) EnsurePort(network, port string, mac net.HardwareAddr) error {
	if err := f.n.failing("EnsurePort"); err != nil {
		return err
	}
	f.n.spoof[port] = network + " " + mac.String()
	return nil
}

func (f *fakeSpoofCheck) DeletePorts(network string, drop func(string) bool) error {
	if err := f.n.failing("DeletePorts"); err != nil {
		return err
	}
	for port, r := range f.n.spoof {
		if strings.HasPrefix(r, network+" ") && drop(port) {
			delete(f.n.spoof, port)
		}
	}
	return nil
}

func (f *fakeSpoofCheck) CheckPort(network, port string, mac net.HardwareAddr) error {
	if got, want := f.n.spoof[port], network+" "+mac.String(); got != want {
		return fmt.Errorf("macspoofchk rule of %s is %q, want %q", port, got, want)
	}
	return nil
}

func (f *fakeSpoofCheck) Usable() error { return f.n.failing("SpoofUsable") }

// spoofConf is testConf with macspoofchk on.
var spoofConf = strings.Replace(testConf, `"ipam"`, `"macspoofchk": true, "ipam"`, 1)

func spoofArgs(id string) *skel.CmdArgs {
	args := cmdArgs(id, "/run/netns/"+id)
	args.StdinData = []byte(spoofConf)
	return args
}

func TestSpoofCheckAddCheckDel(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1")
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	a, err := add(t, p, spoofArgs("c1"))
	if err != nil {
		t.Fatalf("ADD: %v", err)
	}
	port := hostVethName("unit", "c1", "eth0")
	if got := n.spoof[port]; got != "unit 02:00:00:00:00:02" {
		t.Fatalf("rule of %s = %q, want the container MAC's", port, got)
	}
	args := spoofArgs("c1")
	args.StdinData = withPrevResult(t, spoofConf, a)
	c, err := p.load(args)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.check(c, args, fakeNS(args)); err != nil {
		t.Fatalf("CHECK: %v", err)
	}
	delete(n.spoof, port)
	if err := p.check(c, args, fakeNS(args)); err == nil || !strings.Contains(err.Error(), "macspoofchk") {
		t.Fatalf("CHECK without the rule = %v, want a drift naming macspoofchk", err)
	}
	n.spoof[port] = "unit 02:00:00:00:00:02"
	if err := p.Del(spoofArgs("c1")); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	if len(n.spoof) != 0 {
		t.Errorf("DEL left rules %v", n.spoof)
	}
}

func TestSpoofCheckFailureAtEveryStepLeavesNothing(t *testing.T) {
	boom := errors.New("injected")
	for _, step := range []string{"veth", "macspoofchk", "rps", "sysctls", "ipam", "addresses", "gateway", "netfilter"} {
		t.Run(step, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			n.ipam.Attachment = "c1/eth0"
			n.fail[map[string]string{
				"veth": "AddVeth", "macspoofchk": "EnsurePort", "rps": "SetRPS", "sysctls": "WriteSysctls",
				"ipam": "IPAM.Add", "addresses": "Configure", "gateway": "EnsureAddresses", "netfilter": "EnsureRules",
			}[step]] = boom
			before := n.perAttachment()
			_, err := add(t, n.plugin(), spoofArgs("c1"))
			if failed := steps.Failed(err); !slices.Contains(failed, step) {
				t.Fatalf("ADD = %v (failed %v), want step %q to fail", err, failed, step)
			}
			if after := n.perAttachment(); after != before {
				t.Errorf("failed ADD left:\n%s", after)
			}
		})
	}
}

// GC removes the network's rules of every attachment that is not valid,
// even with macspoofchk now off, and never another network's.
func TestGCRemovesStraySpoofChecks(t *testing.T) {
	n := newFakeNode(t)
	keep, stray := hostVethName("unit", "c2", "eth0"), hostVethName("unit", "c1", "eth0")
	n.spoof[keep] = "unit 02:00:00:00:00:02"
	n.spoof[stray] = "unit 02:00:00:00:00:03"
	n.spoof["nsvother"] = "other 02:00:00:00:00:04"
	conf := strings.Replace(testConf, `"ipam"`, `"cni.dev/valid-attachments": [{"containerID": "c2", "ifname": "eth0"}], "ipam"`, 1)
	if err := n.plugin().GC(&skel.CmdArgs{StdinData: []byte(conf)}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if _, ok := n.spoof[stray]; ok {
		t.Error("GC kept the rule of an attachment that is not valid")
	}
	if _, ok := n.spoof[keep]; !ok {
		t.Error("GC removed the rule of a valid attachment")
	}
	if _, ok := n.spoof["nsvother"]; !ok {
		t.Error("GC removed another network's rule")
	}
}

func TestSpoofCheckUnusableRefusedAndReported(t *testing.T) {
	n := newFakeNode(t)
	n.fail["SpoofUsable"] = errors.New("nft not found in PATH")
	err := n.plugin().Status(&skel.CmdArgs{StdinData: []byte(spoofConf)})
	if err == nil || !strings.Contains(err.Error(), "macspoofchk needs nftables: nft not found") {
		t.Fatalf("STATUS = %v, want code 50 naming macspoofchk", err)
	}
	if err := n.plugin().Status(&skel.CmdArgs{StdinData: []byte(testConf)}); err != nil {
		t.Fatalf("STATUS without macspoofchk: %v", err)
	}
}

// GC fails over a sweep it cannot do only for a network that uses
// macspoofchk; any other network's GC goes on.
func TestGCSpoofSweepFailure(t *testing.T) {
	for _, tc := range []struct {
		conf     string
		wantFail bool
	}{{testConf, false}, {spoofConf, true}} {
		n := newFakeNode(t)
		n.fail["DeletePorts"] = errors.New("nft: operation not supported")
		err := n.plugin().GC(&skel.CmdArgs{StdinData: []byte(tc.conf)})
		if got := err != nil && strings.Contains(err.Error(), "stray macspoofchk"); got != tc.wantFail {
			t.Errorf("GC = %v, want failure %v", err, tc.wantFail)
		}
	}
}
