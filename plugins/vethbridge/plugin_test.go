package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/netrules"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/steps"
)

const testConf = `{
	"cniVersion": "1.1.0", "name": "unit", "type": "vethbridge",
	"bridge": "nstbr0", "isGateway": true, "ipMasq": true,
	"sysctl": {"net.ipv4.tcp_keepalive_time": "300"},
	"inheritSysctls": ["net.ipv4.tcp_keepalive_intvl"],
	"rps": {"cpus": "all", "flowCount": 2048},
	"ipam": {"type": "fake"}
}`

func cmdArgs(id, netns string) *skel.CmdArgs {
	return &skel.CmdArgs{ContainerID: id, Netns: netns, IfName: "eth0", StdinData: []byte(testConf)}
}

// add runs ADD's steps as Add does after its netns checks, which need a
// real namespace (the integration tests cover them).
func add(t *testing.T, p *Plugin, args *skel.CmdArgs) (*attachment, error) {
	t.Helper()
	c, err := p.load(args)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return p.add(c, args, fakeNS(args))
}

func TestAddFailureAtEveryStepLeavesNothing(t *testing.T) {
	boom := errors.New("injected")
	for _, tc := range []struct {
		step   string
		inject func(n *fakeNode)
	}{
		{"bridge", func(n *fakeNode) { n.fail["EnsureBridge"] = boom }},
		{"veth", func(n *fakeNode) { n.fail["AddVeth"] = boom }},
		{"rps", func(n *fakeNode) { n.fail["SetRPS"] = boom }},
		{"sysctls", func(n *fakeNode) { n.fail["WriteSysctls"] = boom }},
		{"ipam", func(n *fakeNode) { n.fail["IPAM.Add"] = boom }},
		{"addresses", func(n *fakeNode) { n.fail["Configure"] = boom }},
		{"gateway", func(n *fakeNode) { n.fail["EnsureAddresses"] = boom }},
		{"forwarding", func(n *fakeNode) { os.Remove(filepath.Join(n.hostProc, "net/ipv4/ip_forward")) }},
		{"netfilter", func(n *fakeNode) { n.fail["EnsureRules"] = boom }},
	} {
		t.Run(tc.step, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			n.ipam.Attachment = "c1/eth0"
			tc.inject(n)
			before := n.perAttachment()
			_, err := add(t, n.plugin(), cmdArgs("c1", "/run/netns/c1"))
			if failed := steps.Failed(err); !slices.Contains(failed, tc.step) {
				t.Fatalf("ADD error = %v (failed steps %v), want one naming step %q", err, failed, tc.step)
			}
			if after := n.perAttachment(); after != before {
				t.Errorf("failed ADD left per-attachment state:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// perAttachment renders what one attachment owns: host veths, container
// links and IPAM reservations. Network-wide objects (bridge, rules,
// forwarding) may stay, as after any ADD of the network.
func (n *fakeNode) perAttachment() string {
	var keep []string
	for _, l := range strings.Split(n.String(), "\n") {
		if strings.HasPrefix(l, "host link") || strings.HasPrefix(l, "netns ") || strings.HasPrefix(l, "ipam ") || strings.HasPrefix(l, "spoofchk ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestAddThenDelLeavesNothing(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1")
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	before := n.perAttachment()
	a, err := add(t, p, cmdArgs("c1", "/run/netns/c1"))
	if err != nil {
		t.Fatalf("ADD: %v", err)
	}
	world := n.String()
	for _, want := range []string{
		"host link " + hostVethName("unit", "c1", "eth0") + " master=nstbr0 alias=netsteer:unit:c1:eth0",
		"host bridge nstbr0 addrs=[10.22.0.1/16]",
		"netns /run/netns/c1 link eth0 up=true addrs=[10.22.0.2/16]",
		"sysctl /run/netns/c1:net/ipv4/tcp_keepalive_time=300",
		"sysctl /run/netns/c1:net/ipv4/tcp_keepalive_intvl=75",
		"host sysctl net/ipv4/ip_forward=1",
		"ipam c1/eth0 10.22.0.2/16",
		"rule ipv4 nat -A POSTROUTING -s 10.22.0.0/16 -m comment --comment netsteer:unit -j " + netrules.MasqChain("unit"),
		"rule ipv4 filter -A FORWARD -m comment --comment netsteer:unit -j " + netrules.FwdChain("unit"),
	} {
		if !strings.Contains(world, want) {
			t.Errorf("after ADD, world lacks %q:\n%s", want, world)
		}
	}
	res := a.result()
	if len(res.Interfaces) != 3 || res.Interfaces[2].Sandbox != "/run/netns/c1" || len(res.IPs) != 1 || *res.IPs[0].Interface != 2 {
		t.Errorf("result = %+v", res)
	}
	for i := 0; i < 2; i++ { // DEL twice: the second finds nothing and succeeds
		if err := p.Del(cmdArgs("c1", "/run/netns/c1")); err != nil {
			t.Fatalf("DEL #%d: %v", i+1, err)
		}
	}
	if after := n.perAttachment(); after != before {
		t.Errorf("DEL left:\n%s", after)
	}
}

func TestDelWithoutNetnsReleasesIPAM(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1")
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	if _, err := add(t, p, cmdArgs("c1", "/run/netns/c1")); err != nil {
		t.Fatal(err)
	}
	delete(n.netns, "/run/netns/c1") // the runtime removed the netns, taking the veth
	delete(n.links, hostVethName("unit", "c1", "eth0"))
	if err := p.Del(cmdArgs("c1", "")); err != nil {
		t.Fatalf("DEL with CNI_NETNS empty: %v", err)
	}
	if len(n.ipam.Reserved) != 0 {
		t.Errorf("reservation leaked: %v", n.ipam.Reserved)
	}
}

func TestDelGoesOnAfterAFailure(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1")
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	if _, err := add(t, p, cmdArgs("c1", "/run/netns/c1")); err != nil {
		t.Fatal(err)
	}
	n.fail["DeleteLink"] = errors.New("busy")
	err := p.Del(cmdArgs("c1", "/run/netns/c1"))
	if err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("DEL error = %v, want the link error", err)
	}
	if len(n.ipam.Reserved) != 0 {
		t.Errorf("IPAM not released when the link delete failed: %v", n.ipam.Reserved)
	}
}

func TestCheckNamesFirstDrift(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(n *fakeNode)
		want   string
	}{
		{"untouched", func(*fakeNode) {}, ""},
		{"address removed", func(n *fakeNode) {
			st := n.netns["/run/netns/c1"]["eth0"]
			st.Addrs = nil
			n.netns["/run/netns/c1"]["eth0"] = st
		}, "address 10.22.0.2/16 missing"},
		{"sysctl changed", func(n *fakeNode) {
			n.sysctls["/run/netns/c1:net/ipv4/tcp_keepalive_time"] = "7200"
		}, `sysctl net.ipv4.tcp_keepalive_time in the container is "7200", want "300"`},
		{"rps reset", func(n *fakeNode) {
			v := n.links[hostVethName("unit", "c1", "eth0")]
			for q, s := range v.Queues {
				s.CPUs = rps.Mask{}
				v.Queues[q] = s
			}
		}, "rps_cpus is 0, want f"},
		{"veth off the bridge", func(n *fakeNode) {
			v := n.links[hostVethName("unit", "c1", "eth0")]
			v.Master = ""
			n.links[v.Name] = v
		}, `on bridge "", want "nstbr0"`},
		{"forwarding off", func(n *fakeNode) {
			os.WriteFile(filepath.Join(n.hostProc, "net/ipv4/ip_forward"), []byte("0\n"), 0o644)
		}, "net.ipv4.ip_forward"},
		{"rule removed", func(n *fakeNode) {
			for r := range n.rules {
				if strings.Contains(r, "POSTROUTING") {
					delete(n.rules, r)
				}
			}
		}, "POSTROUTING"},
		{"reservation gone", func(n *fakeNode) { delete(n.ipam.Reserved, "c1/eth0") }, "IPAM CHECK"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCheck(t, testConf, tc.tamper, tc.want) })
	}
}

// wantCheck runs ADD with conf on a fake node, lets tamper change the
// node, and expects CHECK to pass (want "") or to fail mentioning want.
func wantCheck(t *testing.T, conf string, tamper func(*fakeNode), want string) {
	t.Helper()
	n := newFakeNode(t, "/run/netns/c1")
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	args := cmdArgs("c1", "/run/netns/c1")
	args.StdinData = []byte(conf)
	a, err := add(t, p, args)
	if err != nil {
		t.Fatal(err)
	}
	tamper(n)
	args.StdinData = withPrevResult(t, conf, a)
	c, err := p.load(args)
	if err != nil {
		t.Fatal(err)
	}
	err = p.check(c, args, fakeNS(args))
	if want == "" {
		if err != nil {
			t.Fatalf("CHECK after a clean ADD: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("CHECK error = %v, want it to mention %q", err, want)
	}
}

func withPrevResult(t *testing.T, conf string, a *attachment) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(conf), &m); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a.result())
	var prev any
	json.Unmarshal(b, &prev)
	m["prevResult"] = prev
	out, _ := json.Marshal(m)
	return out
}

func TestGCRemovesOnlyInvalidAttachmentsOfThisNetwork(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1", "/run/netns/c2", "/run/netns/c3")
	p := n.plugin()
	for _, id := range []string{"c1", "c2"} {
		n.ipam.Attachment = id + "/eth0"
		if _, err := add(t, p, cmdArgs(id, "/run/netns/"+id)); err != nil {
			t.Fatal(err)
		}
	}
	other := hostVethName("other", "c3", "eth0")
	n.links[other] = HostVeth{Name: other, Alias: vethAlias("other", "c3", "eth0")}

	conf := strings.Replace(testConf, `"ipam"`, `"cni.dev/valid-attachments": [{"containerID": "c2", "ifname": "eth0"}], "ipam"`, 1)
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(conf)}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	for name, want := range map[string]bool{
		hostVethName("unit", "c1", "eth0"): false,
		hostVethName("unit", "c2", "eth0"): true,
		other:                              true,
	} {
		if _, got := n.links[name]; got != want {
			t.Errorf("after GC, %s present = %v, want %v", name, got, want)
		}
	}
	// No list at all means nothing is valid.
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(testConf)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.links[hostVethName("unit", "c2", "eth0")]; ok {
		t.Error("GC without valid-attachments kept an attachment")
	}
	if _, ok := n.links[other]; !ok {
		t.Error("GC removed another network's veth")
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		fail     string
		wantCode uint
	}{
		{"", 0},
		{"Usable", types.ErrPluginNotAvailable},
		{"IPAM.Status", types.ErrPluginNotAvailable},
	} {
		t.Run(fmt.Sprintf("fail=%q", tc.fail), func(t *testing.T) {
			n := newFakeNode(t)
			if tc.fail != "" {
				n.fail[tc.fail] = errors.New("down")
			}
			err := n.plugin().Status(&skel.CmdArgs{StdinData: []byte(testConf)})
			var te *types.Error
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("STATUS: %v", err)
			case tc.wantCode != 0 && (!errors.As(err, &te) || te.Code != tc.wantCode || !strings.Contains(te.Msg, "down")):
				t.Fatalf("STATUS error = %v, want code %d naming the reason", err, tc.wantCode)
			}
		})
	}
}

// An rps config must not make DEL, CHECK or GC depend on reading the
// node's possible CPUs: only ADD's rps step applies the mask.
func TestUnreadablePossibleCPUsFailsOnlyTheRPSStep(t *testing.T) {
	n := newFakeNode(t, "/run/netns/c1")
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	a, err := add(t, p, cmdArgs("c1", "/run/netns/c1"))
	if err != nil {
		t.Fatal(err)
	}
	p.PossibleCPUs = func() (int, error) { return 0, errors.New("reading possible CPUs: permission denied") }
	args := cmdArgs("c1", "/run/netns/c1")
	args.StdinData = withPrevResult(t, testConf, a)
	c, err := p.load(args)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := p.check(c, args, fakeNS(args)); err != nil {
		t.Errorf("CHECK: %v", err)
	}
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(testConf)}); err != nil {
		t.Errorf("GC: %v", err)
	}
	if err := p.Del(cmdArgs("c1", "/run/netns/c1")); err != nil {
		t.Errorf("DEL: %v", err)
	}
	if _, err := add(t, p, cmdArgs("c1", "/run/netns/c1")); err == nil || !strings.Contains(err.Error(), "rps") {
		t.Errorf("ADD = %v, want the rps step to fail", err)
	}
}
