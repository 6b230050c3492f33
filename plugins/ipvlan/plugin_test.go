package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/internal/verbtest"
	"github.com/netsteer/netsteer/pkg/netns"
)

const testConf = `{
	"cniVersion": "1.1.0", "name": "unit", "type": "ipvlan",
	"mode": "l3s", "flag": "private",
	"sysctl": {"net.ipv4.tcp_keepalive_time": "300"},
	"inheritSysctls": ["net.ipv4.tcp_keepalive_intvl"],
	"ipam": {"type": "fake"},
	"dns": {"nameservers": ["10.23.0.53"]}
}`

const c1 = "/run/netns/nst-c1"

func cmdArgs(id, netns, conf string) *skel.CmdArgs {
	return &skel.CmdArgs{ContainerID: id, Netns: netns, IfName: "eth0", StdinData: []byte(conf)}
}

// add runs ADD as Add does after opening CNI_NETNS, which needs a real
// namespace (the VM integration tests cover it).
func add(t *testing.T, p *Plugin, args *skel.CmdArgs) (*attachment, error) {
	t.Helper()
	c, err := p.load(args)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return p.add(c, args, &netns.NS{Path: args.Netns})
}

// codeOf is the CNI code of err, or 0 when err carries none.
func codeOf(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestAddFailureAtEveryStepLeavesNothing(t *testing.T) {
	boom := errors.New("injected")
	cases := []struct {
		step   string
		method string
	}{
		{"link", "AddIPVlan"},
		{"rename", "Rename"},
		{"sysctls", "WriteSysctls"},
		{"ipam", "IPAM.Add"},
		{"addresses", "Configure"},
	}
	var names []string
	for _, s := range (&attachment{}).steps() {
		names = append(names, s.Name)
	}
	var covered []string
	for _, tc := range cases {
		covered = append(covered, tc.step)
	}
	if fmt.Sprint(names) != fmt.Sprint(covered) {
		t.Fatalf("ADD steps are %v but the table injects into %v", names, covered)
	}
	for _, tc := range cases {
		t.Run(tc.step, func(t *testing.T) {
			n := newFakeNode(t, c1)
			n.ipam.Attachment = "c1/eth0"
			n.fail[tc.method] = boom
			before := n.perAttachment()
			_, err := add(t, n.plugin(), cmdArgs("c1", c1, testConf))
			if err == nil || !strings.HasPrefix(err.Error(), tc.step+":") || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("ADD error = %v, want one naming step %q", err, tc.step)
			}
			if after := n.perAttachment(); after != before {
				t.Errorf("failed ADD left per-attachment state:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestAddFailureWithFailingRollbackIsCode103(t *testing.T) {
	n := newFakeNode(t, c1)
	n.ipam.Attachment = "c1/eth0"
	n.fail["Configure"] = errors.New("route unreachable")
	n.fail["IPAM.Del"] = errors.New("ipam store locked")
	_, err := add(t, n.plugin(), cmdArgs("c1", c1, testConf))
	if codeOf(err) != 103 || !strings.Contains(err.Error(), "route unreachable") || !strings.Contains(err.Error(), "ipam store locked") {
		t.Fatalf("ADD error = %v (code %d), want code 103 naming both failures", err, codeOf(err))
	}
	if strings.Contains(n.perAttachment(), "netns ") {
		t.Errorf("the link survived the rollback although only IPAM DEL failed:\n%s", n)
	}
}

func TestAddThenDelTwiceLeavesNothing(t *testing.T) {
	n := newFakeNode(t, c1)
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	before := n.perAttachment()
	if _, err := add(t, p, cmdArgs("c1", c1, testConf)); err != nil {
		t.Fatalf("ADD: %v", err)
	}
	world := n.String()
	for _, want := range []string{
		"netns " + c1 + " link eth0 kind=ipvlan parent=7 mode=l3s flag=private mtu=1500 alias=netsteer:unit:c1:eth0 up=true addrs=[10.23.0.2/24] routes=[{10.99.0.0/16 10.23.0.1}]",
		"sysctl " + c1 + ":net/ipv4/tcp_keepalive_time=300",
		"sysctl " + c1 + ":net/ipv4/tcp_keepalive_intvl=75",
		"ipam c1/eth0 10.23.0.2/24",
	} {
		if !strings.Contains(world, want) {
			t.Errorf("after ADD, world lacks %q:\n%s", want, world)
		}
	}
	if strings.Contains(world, tempName("unit", "c1", "eth0")) {
		t.Errorf("temporary link name survived ADD:\n%s", world)
	}
	for i := range 2 {
		if err := p.Del(cmdArgs("c1", c1, testConf)); err != nil {
			t.Fatalf("DEL #%d: %v", i+1, err)
		}
	}
	if after := n.perAttachment(); after != before {
		t.Errorf("DEL left:\n%s", after)
	}
}

func TestAddResult(t *testing.T) {
	n := newFakeNode(t, c1)
	n.ipam.Attachment = "c1/eth0"
	a, err := add(t, n.plugin(), cmdArgs("c1", c1, testConf))
	if err != nil {
		t.Fatalf("ADD: %v", err)
	}
	res := a.result()
	if len(res.Interfaces) != 1 || res.Interfaces[0].Name != "eth0" || res.Interfaces[0].Sandbox != c1 || res.Interfaces[0].Mac != "02:00:00:00:00:07" {
		t.Errorf("interfaces = %s", jsonOf(res.Interfaces))
	}
	if len(res.IPs) != 1 || res.IPs[0].Interface == nil || *res.IPs[0].Interface != 0 || res.IPs[0].Address.String() != "10.23.0.2/24" {
		t.Errorf("ips = %s", jsonOf(res.IPs))
	}
	if len(res.Routes) != 1 || len(res.DNS.Nameservers) != 1 || res.DNS.Nameservers[0] != "10.23.0.53" {
		t.Errorf("routes/dns = %s %s", jsonOf(res.Routes), jsonOf(res.DNS))
	}
	for _, v := range supportedVersions {
		t.Run(v, func(t *testing.T) {
			conv, err := res.GetAsVersion(v)
			if err != nil {
				t.Fatalf("converting to %s: %v", v, err)
			}
			out := jsonOf(conv)
			for _, want := range []string{`"cniVersion":"` + v + `"`, `"10.23.0.2/24"`, `"sandbox":"` + c1 + `"`} {
				if !strings.Contains(out, want) {
					t.Errorf("%s result %s lacks %s", v, out, want)
				}
			}
		})
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestAddRefusesExistingIfnameAndDelKeepsIt(t *testing.T) {
	n := newFakeNode(t, c1)
	n.ipam.Attachment = "c1/eth0"
	n.links[c1]["eth0"] = fakeLink{ContainerState: ContainerState{Kind: "veth"}}
	p := n.plugin()
	before := n.String()
	_, err := add(t, p, cmdArgs("c1", c1, testConf))
	if codeOf(err) != types.ErrInvalidEnvironmentVariables || !strings.Contains(err.Error(), "CNI_IFNAME") {
		t.Fatalf("ADD error = %v, want code 4 naming CNI_IFNAME", err)
	}
	if after := n.String(); after != before {
		t.Errorf("refused ADD changed the world:\n%s", after)
	}
	// The runtime cleans up a failed ADD with DEL: that must not take the
	// interface that was there before.
	if err := p.Del(cmdArgs("c1", c1, testConf)); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	if _, ok := n.links[c1]["eth0"]; !ok {
		t.Error("DEL removed an interface ADD did not create")
	}
}

func TestAddMaster(t *testing.T) {
	prev := func(ifaces ...string) string {
		res := current.Result{CNIVersion: "1.1.0"}
		for _, i := range ifaces {
			res.Interfaces = append(res.Interfaces, &current.Interface{Name: i})
		}
		return `, "prevResult": ` + jsonOf(res)
	}
	for _, tc := range []struct {
		name     string
		extra    string
		setup    func(n *fakeNode)
		wantCode uint
		want     string // in the error, or the link line
	}{
		{"default route", "", nil, 0, "parent=7"},
		{"named", `, "master": "nstm1"`, func(n *fakeNode) {
			n.masters[""]["nstm1"] = Master{Name: "nstm1", Index: 9, MTU: 9000, Up: true}
		}, 0, "parent=9"},
		{"chained", prev("nstm1"), func(n *fakeNode) {
			n.masters[""]["nstm1"] = Master{Name: "nstm1", Index: 9, MTU: 1500, Up: true}
		}, 0, "parent=9"},
		{"named wins over chained", `, "master": "nstm0"` + prev("nstm1"), nil, 0, "parent=7"},
		{"chained, two interfaces", prev("a", "b"), nil, types.ErrInvalidNetworkConfig, "prevResult has 2 interfaces"},
		{"in container", `, "linkInContainer": true`, func(n *fakeNode) {
			n.masters[c1] = map[string]Master{"nstc0": {Name: "nstc0", Index: 3, MTU: 1500}}
			n.defaultRoute[c1] = "nstc0"
		}, 0, "parent=3"},
		{"named missing", `, "master": "nstgone"`, nil, types.ErrInvalidNetworkConfig, `"master" = "nstgone"`},
		{"no default route", "", func(n *fakeNode) { delete(n.defaultRoute, "") }, types.ErrTryAgainLater, "no default route"},
		{"mtu above master", `, "mtu": 9000`, nil, types.ErrInvalidNetworkConfig, `"mtu" = "9000": above the MTU 1500 of master nstm0`},
		{"mtu at master", `, "mtu": 1500`, nil, 0, "mtu=1500"},
		{"mtu below master", `, "mtu": 1400`, nil, 0, "mtu=1400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, c1)
			n.ipam.Attachment = "c1/eth0"
			if tc.setup != nil {
				tc.setup(n)
			}
			conf := strings.Replace(testConf, `"mode": "l3s",`, `"mode": "l3s"`+tc.extra+`,`, 1)
			_, err := add(t, n.plugin(), cmdArgs("c1", c1, conf))
			if tc.wantCode != 0 {
				if codeOf(err) != tc.wantCode || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("ADD error = %v (code %d), want code %d with %q", err, codeOf(err), tc.wantCode, tc.want)
				}
				if w := n.perAttachment(); w != "" {
					t.Errorf("refused ADD changed the world:\n%s", w)
				}
				return
			}
			if err != nil {
				t.Fatalf("ADD: %v", err)
			}
			if !strings.Contains(n.String(), "link eth0 kind=ipvlan") || !strings.Contains(n.String(), tc.want) {
				t.Errorf("world lacks %q:\n%s", tc.want, n)
			}
		})
	}
}

func TestAddChainedWithoutIPAM(t *testing.T) {
	prev := `{"cniVersion": "1.1.0", "interfaces": [{"name": "nstm0"}],
		"ips": [{"address": "10.40.0.5/24", "gateway": "10.40.0.1", "interface": 0}],
		"routes": [{"dst": "0.0.0.0/0"}]}`
	conf := `{"cniVersion": "1.0.0", "name": "unit", "type": "ipvlan", "prevResult": ` + prev + `}`
	n := newFakeNode(t, c1)
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	a, err := add(t, p, cmdArgs("c1", c1, conf))
	if err != nil {
		t.Fatalf("chained ADD: %v", err)
	}
	if !strings.Contains(n.String(), "link eth0 kind=ipvlan parent=7 mode=l2 flag=bridge mtu=1500 alias=netsteer:unit:c1:eth0 up=true addrs=[10.40.0.5/24] routes=[{0.0.0.0/0 invalid IP}]") {
		t.Errorf("chained ADD world:\n%s", n)
	}
	res := a.result()
	if len(res.Interfaces) != 2 || res.Interfaces[0].Name != "nstm0" || res.Interfaces[1].Sandbox != c1 || *res.IPs[0].Interface != 1 {
		t.Errorf("chained result = %s, want prevResult's interface then ours, IPs on ours", jsonOf(res))
	}
	if len(n.ipam.Reserved) != 0 {
		t.Errorf("chained ADD without ipam called IPAM: %v", n.ipam.Reserved)
	}
	// CHECK finds the chained master again in the final result.
	args := cmdArgs("c1", c1, conf)
	args.StdinData = withPrevResult(t, conf, res)
	c, err := p.load(args)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.check(c, args, &netns.NS{Path: args.Netns}); err != nil {
		t.Errorf("CHECK of a chained attachment: %v", err)
	}
	if err := p.Del(cmdArgs("c1", c1, conf)); err != nil || n.perAttachment() != "" {
		t.Errorf("chained DEL: %v, left:\n%s", err, n.perAttachment())
	}
}

func TestAddWithoutIPAMOrPrevResultIsRefused(t *testing.T) {
	n := newFakeNode(t, c1)
	conf := `{"cniVersion": "1.1.0", "name": "unit", "type": "ipvlan"}`
	_, err := add(t, n.plugin(), cmdArgs("c1", c1, conf))
	if codeOf(err) != types.ErrInvalidNetworkConfig || !strings.Contains(err.Error(), `"ipam"`) {
		t.Fatalf("ADD error = %v, want code 7 naming ipam", err)
	}
	if w := n.perAttachment(); w != "" {
		t.Errorf("refused ADD changed the world:\n%s", w)
	}
}

func TestDel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		netns string
		setup func(n *fakeNode)
	}{
		{"netns empty", "", func(n *fakeNode) { delete(n.links, c1) }},
		{"netns path gone", c1, func(n *fakeNode) { delete(n.links, c1) }},
		{"no master and no default route", c1, func(n *fakeNode) {
			n.masters = map[string]map[string]Master{}
			n.defaultRoute = map[string]string{}
			n.fail["Lookup"] = errors.New("DEL must not resolve the master")
		}},
		{"leftover under the temporary name", c1, func(n *fakeNode) {
			l := n.links[c1]["eth0"]
			delete(n.links[c1], "eth0")
			n.links[c1][tempName("unit", "c1", "eth0")] = l
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, c1)
			n.ipam.Attachment = "c1/eth0"
			p := n.plugin()
			if _, err := add(t, p, cmdArgs("c1", c1, testConf)); err != nil {
				t.Fatal(err)
			}
			tc.setup(n)
			for i := range 2 {
				if err := p.Del(cmdArgs("c1", tc.netns, testConf)); err != nil {
					t.Fatalf("DEL #%d: %v", i+1, err)
				}
			}
			if w := n.perAttachment(); w != "" {
				t.Errorf("DEL left:\n%s", w)
			}
		})
	}
}

func TestDelGoesOnAfterAFailure(t *testing.T) {
	n := newFakeNode(t, c1)
	n.ipam.Attachment = "c1/eth0"
	p := n.plugin()
	if _, err := add(t, p, cmdArgs("c1", c1, testConf)); err != nil {
		t.Fatal(err)
	}
	n.fail["DeleteIPVlan"] = errors.New("busy")
	err := p.Del(cmdArgs("c1", c1, testConf))
	if err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("DEL error = %v, want the link error", err)
	}
	if len(n.ipam.Reserved) != 0 {
		t.Errorf("IPAM not released when the link delete failed: %v", n.ipam.Reserved)
	}
}

func TestCheckNamesFirstDrift(t *testing.T) {
	tamperLink := func(f func(l *fakeLink)) func(n *fakeNode) {
		return func(n *fakeNode) {
			l := n.links[c1]["eth0"]
			f(&l)
			n.links[c1]["eth0"] = l
		}
	}
	for _, tc := range []struct {
		name     string
		tamper   func(n *fakeNode)
		wantCode uint
		want     string
	}{
		{"untouched", func(*fakeNode) {}, 0, ""},
		{"not an ipvlan", tamperLink(func(l *fakeLink) { l.Kind = "macvlan" }), 100, `is a "macvlan" link, want ipvlan`},
		{"other master", tamperLink(func(l *fakeLink) { l.ParentIndex = 8 }), 100, "master has index 8, want 7 (nstm0)"},
		{"mode", tamperLink(func(l *fakeLink) { l.Mode = ModeL2 }), 100, "ipvlan mode is l2, want l3s"},
		{"flag", tamperLink(func(l *fakeLink) { l.Flag = FlagVEPA }), 100, "ipvlan flag is vepa, want private"},
		{"alias", tamperLink(func(l *fakeLink) { l.Alias = "" }), 100, `alias is ""`},
		{"down", tamperLink(func(l *fakeLink) { l.Up = false }), 100, "eth0 is down"},
		{"address removed", tamperLink(func(l *fakeLink) { l.Addrs = nil }), 100, "address 10.23.0.2/24 missing"},
		{"route removed", tamperLink(func(l *fakeLink) { l.Routes = nil }), 100, "route 10.99.0.0/16 via 10.23.0.1 missing"},
		{"sysctl changed", func(n *fakeNode) {
			n.sysctls[c1+":net/ipv4/tcp_keepalive_time"] = "7200"
		}, 100, `sysctl net.ipv4.tcp_keepalive_time in the container is "7200", want "300"`},
		{"link gone", func(n *fakeNode) { delete(n.links[c1], "eth0") }, 100, "container interface eth0"},
		{"master gone", func(n *fakeNode) {
			delete(n.masters[""], "nstm0")
			delete(n.defaultRoute, "") // the kernel drops the master's routes with it
		}, types.ErrTryAgainLater, "no default route"},
		{"reservation gone", func(n *fakeNode) { delete(n.ipam.Reserved, "c1/eth0") }, 102, "IPAM CHECK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, c1)
			n.ipam.Attachment = "c1/eth0"
			p := n.plugin()
			a, err := add(t, p, cmdArgs("c1", c1, testConf))
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(n)
			args := cmdArgs("c1", c1, testConf)
			args.StdinData = withPrevResult(t, testConf, a.result())
			c, err := p.load(args)
			if err != nil {
				t.Fatal(err)
			}
			err = p.check(c, args, &netns.NS{Path: args.Netns})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CHECK after a clean ADD: %v", err)
				}
				return
			}
			if codeOf(err) != tc.wantCode || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CHECK error = %v (code %d), want code %d mentioning %q", err, codeOf(err), tc.wantCode, tc.want)
			}
		})
	}
}

func TestCheckNeedsPrevResult(t *testing.T) {
	n := newFakeNode(t, c1)
	p := n.plugin()
	args := cmdArgs("c1", c1, testConf)
	c, err := p.load(args)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.check(c, args, &netns.NS{Path: args.Netns}); codeOf(err) != types.ErrInvalidNetworkConfig || !strings.Contains(err.Error(), "prevResult") {
		t.Fatalf("CHECK without prevResult = %v, want code 7 naming prevResult", err)
	}
}

func withPrevResult(t *testing.T, conf string, res *current.Result) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(conf), &m); err != nil {
		t.Fatal(err)
	}
	var prev any
	if err := json.Unmarshal([]byte(jsonOf(res)), &prev); err != nil {
		t.Fatal(err)
	}
	m["prevResult"] = prev
	return []byte(jsonOf(m))
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		setup func(n *fakeNode)
		want  string // "" means STATUS succeeds
	}{
		{"ready", "", nil, ""},
		{"named master ready", `"master": "nstm0",`, nil, ""},
		{"named master missing", `"master": "nstgone",`, nil, "master nstgone"},
		{"master down", "", func(n *fakeNode) {
			m := n.masters[""]["nstm0"]
			m.Up = false
			n.masters[""]["nstm0"] = m
		}, "master nstm0 is down"},
		{"no default route", "", func(n *fakeNode) { delete(n.defaultRoute, "") }, "no default route"},
		{"master in container is not checked", `"linkInContainer": true, "master": "nstgone",`, nil, ""},
		{"IPAM not ready", "", func(n *fakeNode) { n.fail["IPAM.Status"] = errors.New("store unreadable") }, "IPAM plugin fake: store unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t)
			if tc.setup != nil {
				tc.setup(n)
			}
			conf := strings.Replace(testConf, `"mode"`, tc.extra+`"mode"`, 1)
			err := n.plugin().Status(&skel.CmdArgs{StdinData: []byte(conf)})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("STATUS: %v", err)
				}
				return
			}
			if codeOf(err) != types.ErrPluginNotAvailable || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("STATUS error = %v, want code 50 naming %q", err, tc.want)
			}
		})
	}
}

func TestGCForwardsToIPAM(t *testing.T) {
	n := newFakeNode(t)
	p := n.plugin()
	conf := verbtest.WithValidAttachments(testConf, "c2")
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(conf)}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if len(n.ipam.GCConfs) != 1 || !strings.Contains(n.ipam.GCConfs[0], `"containerID": "c2"`) {
		t.Errorf("IPAM GC got %q, want the config with the valid attachments", n.ipam.GCConfs)
	}
	n.fail["IPAM.GC"] = errors.New("disk full")
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(conf)}); codeOf(err) != 102 || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("GC with failing IPAM = %v, want code 102 with IPAM's reason", err)
	}
	// Reservations of attachments not in the list are released, the valid one kept.
	clear(n.fail)
	n.ipam.Reserved["c1/eth0"], n.ipam.Reserved["c2/eth0"] = "10.23.0.2/24", "10.23.0.3/24"
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(conf)}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	verbtest.GCKept(t, n.ipam.Reserved, "c1/eth0", "c2/eth0")
	chained := `{"cniVersion": "1.1.0", "name": "unit", "type": "ipvlan"}`
	n.ipam.GCConfs = nil
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(chained)}); err != nil || len(n.ipam.GCConfs) != 0 {
		t.Errorf("GC without ipam = %v, IPAM calls %q; want nil and none", err, n.ipam.GCConfs)
	}
}
