package inspect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNode builds a node's sysfs, result cache and host-local store in a
// temp dir.
type fakeNode struct {
	t         *testing.T
	sys, cni  string
	liveNetns map[string]bool
}

func newFakeNode(t *testing.T) *fakeNode {
	root := t.TempDir()
	f := &fakeNode{t: t, sys: filepath.Join(root, "sys"), cni: filepath.Join(root, "cni"), liveNetns: map[string]bool{}}
	f.write(filepath.Join(f.sys, "class", "net", "lo", "ifalias"), "\n")
	f.write(filepath.Join(f.cni, "results", ".keep"), "")
	return f
}

func (f *fakeNode) write(path, content string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// veth adds a host veth with vethbridge's alias on bridge br.
func (f *fakeNode) veth(name, alias, br, rpsCPUs string) {
	dev := filepath.Join(f.sys, "class", "net", name)
	f.write(filepath.Join(dev, "ifalias"), alias+"\n")
	for _, q := range []string{"rx-0", "rx-1"} {
		f.write(filepath.Join(dev, "queues", q, "rps_cpus"), rpsCPUs+"\n")
		f.write(filepath.Join(dev, "queues", q, "rps_flow_cnt"), "4096\n")
	}
	if err := os.Symlink("../"+br, filepath.Join(dev, "master")); err != nil {
		f.t.Fatal(err)
	}
}

// cache writes a libcni cache entry for an attachment of conf.
func (f *fakeNode) cache(network, id, ifname, netns, conf string, addrs []string, args [][2]string) {
	var ips []map[string]string
	for _, a := range addrs {
		ips = append(ips, map[string]string{"address": a})
	}
	b, _ := json.Marshal(map[string]any{
		"kind": "cniCacheV1", "containerId": id, "ifName": ifname, "networkName": network, "netns": netns,
		"config": base64.StdEncoding.EncodeToString([]byte(conf)), "cniArgs": args,
		"result": map[string]any{"cniVersion": "1.0.0", "ips": ips},
	})
	f.write(filepath.Join(f.cni, "results", network+"-"+id+"-"+ifname), string(b))
}

func (f *fakeNode) reserve(dataDir, network, addr, id, ifname string) {
	f.write(filepath.Join(dataDir, network, addr), id+"\r\n"+ifname)
}

type fakeRules map[bool]string

func (r fakeRules) Save(v6 bool) (string, error) {
	s, ok := r[v6]
	if !ok {
		return "", errors.New("ip6tables-save: not found")
	}
	return s, nil
}

const rulesOK = `*nat
:POSTROUTING ACCEPT [0:0]
:NSTR-MASQ-aaaa - [0:0]
-A POSTROUTING -s 10.1.0.0/24 -m comment --comment "netsteer:pods" -j NSTR-MASQ-aaaa
-A NSTR-MASQ-aaaa -j MASQUERADE
COMMIT
*filter
:FORWARD ACCEPT [0:0]
:NSTR-FWD-bbbb - [0:0]
-A FORWARD -m comment --comment netsteer:pods -j NSTR-FWD-bbbb
-A NSTR-FWD-bbbb -i nstbr0 -j ACCEPT
COMMIT
`

func TestInspect(t *testing.T) {
	f := newFakeNode(t)
	pods := `{"cniVersion":"1.0.0","name":"pods","plugins":[{"type":"vethbridge","bridge":"nstbr0","ipMasq":true,"ipam":{"type":"host-local"}},{"type":"portmap"}]}`
	fast := `{"cniVersion":"1.0.0","name":"fast","plugins":[{"type":"ipvlan","master":"eth1","ipam":{"type":"host-local","dataDir":"` + filepath.Join(f.cni, "fastdata") + `"}}]}`
	foreign := `{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"bridge","ipam":{"type":"host-local"}}]}`
	k8s := func(ns, name string) [][2]string {
		return [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", ns}, {"K8S_POD_NAME", name}}
	}
	defaultData := filepath.Join(f.cni, "networks")

	// pods: a live pod, one whose veth was deleted behind the plugin's
	// back, a veth the cache does not know, and an orphan reservation.
	f.cache("pods", "aaaa1111", "eth0", "/run/netns/a", pods, []string{"10.1.0.2/24"}, k8s("default", "web-0"))
	f.veth("nsv000000000001", "netsteer:pods:aaaa1111:eth0", "nstbr0", "3")
	f.reserve(defaultData, "pods", "10.1.0.2", "aaaa1111", "eth0")
	f.cache("pods", "bbbb2222", "eth0", "/run/netns/b", pods, []string{"10.1.0.3/24"}, k8s("default", "web-1"))
	f.reserve(defaultData, "pods", "10.1.0.3", "bbbb2222", "eth0")
	f.veth("nsv000000000003", "netsteer:pods:cccc3333:eth0", "nstbr0", "0")
	f.reserve(defaultData, "pods", "10.1.0.4", "cccc3333", "eth0")
	f.reserve(defaultData, "pods", "10.1.0.9", "dddd4444", "eth0")
	f.write(filepath.Join(defaultData, "pods", "last_reserved_ip.0"), "10.1.0.9")
	f.write(filepath.Join(defaultData, "pods", "lock"), "")
	// fast (ipvlan): one pod whose netns lives, one whose netns is gone.
	f.cache("fast", "eeee5555", "net1", "/run/netns/e", fast, []string{"192.168.5.10/24"}, nil)
	f.liveNetns["/run/netns/e"] = true
	f.reserve(filepath.Join(f.cni, "fastdata"), "fast", "192.168.5.10", "eeee5555", "net1")
	f.cache("fast", "ffff6666", "net1", "/run/netns/f", fast, []string{"192.168.5.11/24"}, nil)
	f.reserve(filepath.Join(f.cni, "fastdata"), "fast", "192.168.5.11", "ffff6666", "net1")
	// Not ours: left out entirely.
	f.cache("other", "9999", "eth0", "/run/netns/x", foreign, []string{"10.9.0.2/24"}, nil)
	f.reserve(defaultData, "other", "10.9.0.2", "gone", "eth0")
	f.veth("vethforeign", "some operator alias", "cni0", "0")

	node := Node{Sys: f.sys, CNIDir: f.cni, Rules: fakeRules{false: rulesOK},
		NetnsExists: func(p string) bool { return f.liveNetns[p] }}
	r, err := node.Inspect()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, n := range r.Networks {
		fmt.Fprintf(&b, "network %s %s bridge=%s rules=%s %s\n", n.Name, n.Plugin, n.Bridge, n.Rules.State, n.Rules.Detail)
	}
	for _, a := range r.Attachments {
		fmt.Fprintf(&b, "attachment %s %s %s pod=%s/%s veth=%s br=%s addrs=%s rps=%s live=%v %s\n", a.Network, a.ContainerID, a.IfName,
			a.PodNamespace, a.PodName, a.HostVeth, a.Bridge, strings.Join(a.Addresses, ","), rpsSummary(a.RPS), a.Live, a.Problem)
	}
	for _, s := range r.Stale {
		fmt.Fprintf(&b, "stale %s %s %s %s\n", s.Network, s.Address, s.ContainerID, s.IfName)
	}
	want := `network fast ipvlan bridge= rules=none ipvlan owns no host netfilter rules
network pods vethbridge bridge=nstbr0 rules=ok 
attachment fast eeee5555 net1 pod=/ veth= br= addrs=192.168.5.10/24 rps= live=true 
attachment fast ffff6666 net1 pod=/ veth= br= addrs=192.168.5.11/24 rps= live=false network namespace /run/netns/f is gone
attachment pods aaaa1111 eth0 pod=default/web-0 veth=nsv000000000001 br=nstbr0 addrs=10.1.0.2/24 rps=cpus=3 flows=4096 live=true 
attachment pods bbbb2222 eth0 pod=default/web-1 veth= br=nstbr0 addrs=10.1.0.3/24 rps= live=false host veth is gone
attachment pods cccc3333 eth0 pod=/ veth=nsv000000000003 br=nstbr0 addrs=10.1.0.4 rps=cpus=0 flows=4096 live=true not in the runtime's result cache
stale fast 192.168.5.11 ffff6666 net1
stale pods 10.1.0.3 bbbb2222 eth0
stale pods 10.1.0.9 dddd4444 eth0
`
	if got := b.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}

	var tbl, js bytes.Buffer
	if err := r.WriteTable(&tbl); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"default/web-0", "nsv000000000001", "STALE RESERVATIONS", "10.1.0.9"} {
		if !strings.Contains(tbl.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, tbl.String())
		}
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Attachments) != 5 || len(back.Stale) != 3 {
		t.Errorf("JSON does not round-trip (%v):\n%s", err, js.String())
	}
}

func TestInspectRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rules  fakeRules
		addr   string
		want   string
		detail string
	}{
		{"in place", fakeRules{false: rulesOK}, "10.1.0.2/24", "ok", ""},
		{"flushed", fakeRules{false: "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n*nat\nCOMMIT\n"}, "10.1.0.2/24", "missing",
			"IPv4 filter FORWARD jump netsteer:pods; IPv4 nat POSTROUTING jump netsteer:pods"},
		{"chain emptied", fakeRules{false: strings.Replace(rulesOK, "-A NSTR-FWD-bbbb -i nstbr0 -j ACCEPT\n", "", 1)}, "10.1.0.2/24", "missing",
			"IPv4 filter chain NSTR-FWD-bbbb is empty or missing"},
		{"unreadable", fakeRules{false: rulesOK}, "fd00::2/64", "unknown", "ip6tables-save: not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNode(t)
			conf := `{"cniVersion":"1.0.0","name":"pods","plugins":[{"type":"vethbridge","bridge":"nstbr0","ipMasq":true,"ipam":{"type":"host-local"}}]}`
			f.cache("pods", "aaaa1111", "eth0", "/run/netns/a", conf, []string{tc.addr}, nil)
			f.veth("nsv000000000001", "netsteer:pods:aaaa1111:eth0", "nstbr0", "0")
			r, err := Node{Sys: f.sys, CNIDir: f.cni, Rules: tc.rules}.Inspect()
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Networks[0].Rules; got.State != tc.want || got.Detail != tc.detail {
				t.Errorf("rules = %+v, want %s %q", got, tc.want, tc.detail)
			}
		})
	}
}

func TestInspectEmptyNode(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "sys", "class", "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := Node{Sys: filepath.Join(root, "sys"), CNIDir: filepath.Join(root, "no-cni")}.Inspect()
	if err != nil || len(r.Networks)+len(r.Attachments)+len(r.Stale) != 0 {
		t.Errorf("empty node: %+v, %v", r, err)
	}
	if _, err := (Node{Sys: filepath.Join(root, "missing"), CNIDir: root}).Inspect(); err == nil {
		t.Error("a missing sysfs is not an error")
	}
}
