//go:build integration

package vethbridge

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/containernetworking/cni/libcni"

	"github.com/netsteer/netsteer/integration/nstest"
)

// withDataDir points every host-local in a conflist at DATADIR, so the
// test's node owns the reservations.
func withDataDir(t *testing.T, text string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range m["plugins"].([]any) {
		if ipam, ok := p.(map[string]any)["ipam"].(map[string]any); ok {
			ipam["dataDir"] = "DATADIR"
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestEveryConfExampleLoadsAndWorks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(nstest.RepoRoot(t), "conf", "*.conflist"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conf/*.conflist: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			list, err := libcni.ConfListFromBytes(raw)
			if err != nil {
				t.Fatalf("libcni cannot load %s: %v", f, err)
			}
			if list.Plugins[0].Network.Type == "ipvlan" {
				// This kernel has no ipvlan: integration/ipvlan runs this
				// example in the VM (TestConfExample); here it only loads.
				return
			}
			s := newSetup(t, withDataDir(t, string(raw)), 2)
			r0, r1 := s.add(t, 0), s.add(t, 1)
			ping(t, s.conts[0].Netns, addrOf(t, r1, false))
			ping(t, s.conts[1].Netns, addrOf(t, r0, false))
			if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
				t.Errorf("CHECK: %v", err)
			}
			s.del(t, 0)
			s.del(t, 1)
			if v := hostVeths(t, s.node); len(v) != 0 {
				t.Errorf("veths left: %v", v)
			}
			wantReservations(t, s.node, s.list.Name, 0)
		})
	}
}

// TestCnitool drives the default network the way an operator would:
// cnitool add, check, del, with the conflist in NETCONFPATH.
func TestCnitool(t *testing.T) {
	node := nstest.NewNode(t)
	node.Conflist(t, "10-netsteer.conflist", withDataDir(t, repoConf(t, "10-netsteer.conflist")))
	c := nstest.NewNetns(t, "c")
	out, err := node.Cnitool(t, "add", "netsteer", c.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = node.Cnitool(t, "del", "netsteer", c.Path()) })
	if !strings.Contains(out, `"sandbox": "`+c.Path()+`"`) {
		t.Errorf("cnitool add output lacks the sandbox:\n%s", out)
	}
	if addrs := c.Addrs(t, "eth0"); len(addrs) != 1 || !strings.HasPrefix(addrs[0], "10.22.") {
		t.Errorf("eth0 addresses = %v", addrs)
	}
	ping(t, c, "10.22.0.1")
	if _, err := node.Cnitool(t, "check", "netsteer", c.Path()); err != nil {
		t.Errorf("cnitool check: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := node.Cnitool(t, "del", "netsteer", c.Path()); err != nil {
			t.Fatalf("cnitool del #%d: %v", i+1, err)
		}
	}
	if v := hostVeths(t, node); len(v) != 0 {
		t.Errorf("veths left: %v", v)
	}
	wantReservations(t, node, "netsteer", 0)
}

// TestKubernetesTemplate renders conf/kubernetes' conflist template for a
// node's pod CIDR, as netsteer-install and containerd's conf_template do,
// and runs it (vethbridge chained with portmap). The DaemonSet's ConfigMap
// must carry the same template but for noMasqueradeCIDRs.
func TestKubernetesTemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(nstest.RepoRoot(t), "conf", "kubernetes", "10-netsteer.conflist.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := os.ReadFile(filepath.Join(nstest.RepoRoot(t), "conf", "kubernetes", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// One deliberate difference: the ConfigMap has the installer derive
	// noMasqueradeCIDRs from the cluster (containerd's conf_template,
	// which the .tmpl also serves, has no such field).
	derived := `"noMasqueradeCIDRs": {{.NoMasqueradeCIDRs}},`
	literal := `"noMasqueradeCIDRs": ["10.244.0.0/16", "10.96.0.0/12"],`
	embedded := configMapTemplate(string(ds))
	if !strings.Contains(embedded, derived) || !strings.Contains(string(raw), literal) {
		t.Errorf("want the ConfigMap to carry %s where 10-netsteer.conflist.tmpl has %s", derived, literal)
	}
	if embedded = strings.Replace(embedded, derived, literal, 1); embedded != string(raw) {
		t.Errorf("daemonset.yaml's ConfigMap template differs from 10-netsteer.conflist.tmpl beyond noMasqueradeCIDRs:\n%s", embedded)
	}
	var b strings.Builder
	if err := template.Must(template.New("conf").Parse(string(raw))).Execute(&b, map[string]string{"PodCIDR": "10.244.1.0/24"}); err != nil {
		t.Fatal(err)
	}
	s := newSetup(t, withDataDir(t, b.String()), 2)
	s.add(t, 0)
	r1 := s.add(t, 1)
	if ip := addrOf(t, r1, false); !strings.HasPrefix(ip, "10.244.1.") {
		t.Errorf("pod address %s is outside the node's pod CIDR", ip)
	}
	ping(t, s.conts[0].Netns, addrOf(t, r1, false))
	s.del(t, 0)
	s.del(t, 1)
	wantReservations(t, s.node, "netsteer", 0)
}

// configMapTemplate extracts the indented block under the template key.
func configMapTemplate(yaml string) string {
	_, rest, ok := strings.Cut(yaml, "10-netsteer.conflist.tmpl: |\n")
	if !ok {
		return ""
	}
	var out strings.Builder
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "    ") {
			break
		}
		out.WriteString(strings.TrimPrefix(line, "    ") + "\n")
	}
	return out.String()
}
