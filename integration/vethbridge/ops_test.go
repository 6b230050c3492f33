//go:build integration

package vethbridge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/integration/nstest"
	"github.com/netsteer/netsteer/pkg/inspect"
	"github.com/netsteer/netsteer/pkg/oplog"
)

// podSetup is a node with n pods on one vethbridge network, each with
// the Kubernetes CNI_ARGS a CRI runtime passes.
func podSetup(t *testing.T, network string, overrides map[string]any, n int) (*setup, []*current.Result) {
	t.Helper()
	p := plugin(network, []string{"10.31.0.0/24"}, overrides)
	s := newSetup(t, conflist("1.1.0", network, p), n)
	var res []*current.Result
	for i := range s.conts {
		s.conts[i].Args = [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "default"}, {"K8S_POD_NAME", fmt.Sprintf("web-%d", i)}}
		res = append(res, s.add(t, i))
	}
	return s, res
}

// inspectNode runs `netsteer inspect --json` in the node's host netns,
// whose sysfs `ip netns exec` mounts, against the node's cache dir.
func inspectNode(t *testing.T, node *nstest.Node) inspect.Report {
	t.Helper()
	out := node.Host.Exec(t, filepath.Join(node.Bin, "netsteer"), "inspect", "--json", "--cni-dir", node.CacheDir)
	var r inspect.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("netsteer inspect --json: %v\n%s", err, out)
	}
	return r
}

// nodeState is everything inspect reads, to prove it changes none of it.
func nodeState(t *testing.T, node *nstest.Node) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(node.Host.Topology(t)) // without -d: bridge timers tick
	b.WriteString(node.Host.Rules(t, false))
	for _, dir := range []string{node.CacheDir, node.DataDir} {
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				fmt.Fprintf(&b, "%s %v %d %v\n", p, fi.Mode(), fi.Size(), fi.ModTime())
			}
			return nil
		})
	}
	return b.String()
}

// TestInspectShowsPodsAndWhatGCWouldRelease attaches three pods, deletes
// one pod's host veth behind the plugin's back, and checks that inspect
// reports the two live pods as the kernel has them, the third as stale
// with exactly its reservation as what GC would release, and that GC then
// releases exactly that.
func TestInspectShowsPodsAndWhatGCWouldRelease(t *testing.T) {
	s, res := podSetup(t, "nstinsp", map[string]any{"rps": map[string]any{"cpus": "all", "flowCount": 256}}, 3)
	gone := res[1].Interfaces[1].Name
	s.node.Host.Exec(t, "ip", "link", "del", gone)

	before := nodeState(t, s.node)
	r := inspectNode(t, s.node)
	if after := nodeState(t, s.node); after != before {
		t.Errorf("inspect changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if len(r.Networks) != 1 || r.Networks[0].Name != "nstinsp" || r.Networks[0].Rules.State != "ok" {
		t.Errorf("networks = %+v, want nstinsp with its rules in place", r.Networks)
	}
	if len(r.Attachments) != 3 {
		t.Fatalf("attachments = %+v, want 3", r.Attachments)
	}
	for i, c := range s.conts {
		idx := slices.IndexFunc(r.Attachments, func(a inspect.Attachment) bool { return a.ContainerID == c.ID })
		if idx < 0 {
			t.Errorf("pod %d (%s) not listed", i, c.ID)
			continue
		}
		a := r.Attachments[idx]
		wantAddr := res[i].IPs[0].Address.String()
		if a.PodNamespace != "default" || a.PodName != fmt.Sprintf("web-%d", i) || a.IfName != "eth0" ||
			!slices.Equal(a.Addresses, []string{wantAddr}) {
			t.Errorf("pod %d: %+v, want default/web-%d eth0 %s", i, a, i, wantAddr)
		}
		if i == 1 {
			if a.Live || a.HostVeth != "" || !strings.Contains(a.Problem, "host veth is gone") {
				t.Errorf("pod 1 with its veth deleted: %+v, want stale", a)
			}
			continue
		}
		host := res[i].Interfaces[1].Name
		if !a.Live || a.HostVeth != host || a.Bridge != "nstbr0" {
			t.Errorf("pod %d: %+v, want live on %s in nstbr0", i, a, host)
		}
		// The settings as sysfs reports them, queue by queue.
		kernel := rxQueues(t, s.node, host)
		if len(a.RPS) != len(kernel) {
			t.Errorf("pod %d RPS = %+v, kernel %v", i, a.RPS, kernel)
		}
		for _, q := range a.RPS {
			if k := kernel[q.Queue]; q.CPUs != k[0] || q.FlowCount != k[1] || q.FlowCount != "256" {
				t.Errorf("pod %d %s: inspect %s/%s, kernel %s/%s, want flow count 256", i, q.Queue, q.CPUs, q.FlowCount, k[0], k[1])
			}
		}
	}
	staleAddr := res[1].IPs[0].Address.IP.String()
	if len(r.Stale) != 1 || r.Stale[0].Address != staleAddr || r.Stale[0].ContainerID != s.conts[1].ID {
		t.Errorf("stale reservations = %+v, want only %s of %s", r.Stale, staleAddr, s.conts[1].ID)
	}

	table := s.node.Host.Exec(t, filepath.Join(s.node.Bin, "netsteer"), "inspect", "--cni-dir", s.node.CacheDir)
	t.Logf("netsteer inspect:\n%s", table)
	for _, want := range []string{"default/web-0", res[0].Interfaces[1].Name, "stale: host veth is gone", staleAddr + " "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	// What inspect called stale is what GC releases, given the live pods.
	if err := s.node.GC(t, s.list, s.conts[0], s.conts[2]); err != nil {
		t.Fatalf("GC: %v", err)
	}
	held := s.node.Reservations(t, "nstinsp")
	slices.Sort(held)
	want := []string{res[0].IPs[0].Address.IP.String(), res[2].IPs[0].Address.IP.String()}
	slices.Sort(want)
	if !slices.Equal(held, want) {
		t.Errorf("after GC host-local holds %v, want %v", held, want)
	}
	if r := inspectNode(t, s.node); len(r.Stale) != 0 {
		t.Errorf("after GC inspect still lists stale reservations %+v", r.Stale)
	}

	// A flushed FORWARD chain shows up as missing rules.
	if backend() == "nftables" {
		s.node.Host.Exec(t, "nft", "flush", "chain", "inet", "netsteer", "forward")
	} else {
		s.node.Host.Exec(t, "iptables", "-F", "FORWARD")
	}
	if r := inspectNode(t, s.node); r.Networks[0].Rules.State != "missing" || !strings.Contains(strings.ToLower(r.Networks[0].Rules.Detail), "forward") {
		t.Errorf("after flushing FORWARD rules = %+v, want missing naming FORWARD", r.Networks[0].Rules)
	}
}

// TestOperationsLog runs ADD, CHECK and DEL with the "log" key and reads
// one line per verb with the pod, the steps and the build.
func TestOperationsLog(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "netsteer.log")
	s, _ := podSetup(t, "nstlog", map[string]any{"log": map[string]any{"file": logFile, "maxBytes": 1 << 20}}, 1)
	if err := s.node.Check(t, s.list, s.conts[0]); err != nil {
		t.Fatalf("CHECK: %v", err)
	}
	s.del(t, 0)

	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("operations log:\n%s", raw)
	var verbs []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e oplog.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		verbs = append(verbs, e.Verb)
		if e.Plugin != "vethbridge" || e.Network != "nstlog" || e.ContainerID != s.conts[0].ID || e.IfName != "eth0" ||
			e.PodNamespace != "default" || e.PodName != "web-0" || e.Result != "ok" || e.Version == "unknown" || e.Commit == "unknown" {
			t.Errorf("log line %s", line)
		}
		if e.Verb == "ADD" {
			var names []string
			for _, st := range e.Steps {
				names = append(names, st.Step)
			}
			if want := "bridge setup addresses gateway forwarding netfilter"; strings.Join(names, " ") != want {
				t.Errorf("ADD steps %q, want %q", names, want)
			}
		}
	}
	if got := strings.Join(verbs, " "); got != "ADD CHECK DEL" {
		t.Errorf("logged verbs %q, want ADD CHECK DEL (libcni runs no STATUS or GC here)", got)
	}
}

// TestVersionAndAbout: every binary names its build, from --version and,
// for the plugins, skel's about string when run without CNI_COMMAND.
func TestVersionAndAbout(t *testing.T) {
	bin := nstest.BinDir(t)
	stamp := regexp.MustCompile(`version [^ ,]+, commit [0-9a-f]{40}`)
	for _, b := range []string{"vethbridge", "ipvlan", "netsteer", "netsteer-install"} {
		out := nstest.Run(t, filepath.Join(bin, b), "--version")
		name := "netsteer " + b
		if strings.HasPrefix(b, "netsteer") {
			name = b
		}
		if !strings.HasPrefix(out, name+" version ") || !stamp.MatchString(out) {
			t.Errorf("%s --version = %q", b, out)
		}
	}
	node := nstest.NewNode(t)
	for _, b := range []string{"vethbridge", "ipvlan"} {
		_, stderr, _ := node.Plugin(t, b, nil, "")
		if !strings.HasPrefix(stderr, "netsteer "+b+" version ") || !stamp.MatchString(stderr) {
			t.Errorf("%s without CNI_COMMAND printed %q", b, stderr)
		}
	}
}
