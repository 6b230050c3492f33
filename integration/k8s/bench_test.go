//go:build k8s

package k8s

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"
	"time"
)

// benchPods is how many pods TestBenchPods creates at once.
const benchPods = 30

// TestBenchPods measures, on the same node harness, the time from creating
// benchPods pods at once to all of them Running, and the share of it the
// runtime spent in RunPodSandbox (where the CNI ADD runs). The network is
// installed directly (no DaemonSet) so ours and upstream bridge get the same
// treatment. Only `make bench-k8s` runs it (NETSTEER_K8S_BENCH=vethbridge or
// bridge, NETSTEER_K8S_CNI_BIN=the built plugins).
func TestBenchPods(t *testing.T) {
	plugin := os.Getenv("NETSTEER_K8S_BENCH")
	if plugin == "" {
		t.Skip("benchmark: only make bench-k8s runs it (NETSTEER_K8S_BENCH unset)")
	}
	n := requireNode(t)
	if plugin != "vethbridge" && plugin != "bridge" {
		t.Fatalf("NETSTEER_K8S_BENCH=%q: want vethbridge or bridge", plugin)
	}
	binDir := os.Getenv("NETSTEER_K8S_CNI_BIN")
	for _, b := range []string{plugin, "host-local", "loopback", "portmap"} {
		if _, err := n.inNode("cp", filepath.Join(binDir, b), "/opt/cni/bin/"+b); err != nil {
			t.Fatal(err)
		}
	}
	conf := benchConflist(t, n, plugin)
	local := filepath.Join(n.dir, "bench.conflist")
	if err := os.WriteFile(local, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := n.inNode("cp", local, "/etc/cni/net.d/10-bench.conflist"); err != nil {
		t.Fatal(err)
	}
	if err := waitFor("node Ready", 3*time.Minute, nil, func() (bool, error) {
		status, msg, err := n.nodeCondition("Ready")
		return status == "True", fmt.Errorf("Ready=%s %s (%v)", status, msg, err)
	}); err != nil {
		t.Fatal(err)
	}
	if err := n.waitDefaultServiceAccount(); err != nil {
		t.Fatal(err)
	}
	rounds := 3
	for r := 1; r <= rounds; r++ {
		wall, sandbox := n.benchRound(t, r)
		sort.Slice(sandbox, func(i, j int) bool { return sandbox[i] < sandbox[j] })
		var sum time.Duration
		for _, d := range sandbox {
			sum += d
		}
		if len(sandbox) != benchPods {
			t.Fatalf("found %d RunPodSandbox timings in the containerd log, want %d", len(sandbox), benchPods)
		}
		fmt.Printf("BENCH plugin=%s round=%d pods=%d all_running_s=%.2f runpodsandbox_median_ms=%d runpodsandbox_max_ms=%d runpodsandbox_sum_s=%.2f\n",
			plugin, r, benchPods, wall.Seconds(), sandbox[len(sandbox)/2].Milliseconds(), sandbox[len(sandbox)-1].Milliseconds(), sum.Seconds())
	}
}

// benchConflist renders the shipped template for the node's pod CIDR; for
// upstream bridge it drops netsteer's own keys and IPAM's default route and
// changes the type.
func benchConflist(t *testing.T, n *node, plugin string) []byte {
	t.Helper()
	var b strings.Builder
	tmpl := template.Must(template.New("c").Parse(readRepo(t, "conf/kubernetes/10-netsteer.conflist.tmpl")))
	if err := tmpl.Execute(&b, map[string]string{"PodCIDR": n.podCIDR(t).String()}); err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(b.String()), &c); err != nil {
		t.Fatal(err)
	}
	c["cniVersion"] = wantCNIVersion()
	first := c["plugins"].([]any)[0].(map[string]any)
	if plugin == "bridge" {
		for _, k := range []string{"noMasqueradeCIDRs", "inheritSysctls", "sysctl", "rps"} {
			delete(first, k)
		}
		first["type"] = "bridge"
		// Upstream bridge adds the default route itself for
		// isDefaultGateway and then fails ADD with "file exists" when
		// IPAM returns one too (measured with v1.9.1), so it gets the
		// template without IPAM's route; the pods' routes end up the same.
		delete(first["ipam"].(map[string]any), "routes")
	}
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var sandboxName = regexp.MustCompile(`bench-\d+-\d+`)

// benchRound creates benchPods pods in one apply, waits until all run,
// reads each pod's RunPodSandbox time from the containerd log, and deletes
// them again.
func (n *node) benchRound(t *testing.T, round int) (time.Duration, []time.Duration) {
	t.Helper()
	var m strings.Builder
	for i := 0; i < benchPods; i++ {
		fmt.Fprintf(&m, `---
apiVersion: v1
kind: Pod
metadata: {name: bench-%d-%d, namespace: default, labels: {app: bench}}
spec:
  terminationGracePeriodSeconds: 1
  enableServiceLinks: false
  containers:
  - {name: echo, image: %s, imagePullPolicy: Never}
`, round, i, echoImage)
	}
	f := filepath.Join(n.dir, fmt.Sprintf("bench-%d.yaml", round))
	if err := os.WriteFile(f, []byte(m.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := n.kubectl("apply", "-f", f); err != nil {
		t.Fatal(err)
	}
	var wall time.Duration
	err := waitFor("bench pods Running", 5*time.Minute, nil, func() (bool, error) {
		pods, err := n.pods("app=bench")
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods {
			if p.phase == "Running" {
				running++
			}
		}
		if running == benchPods {
			wall = time.Since(start)
			return true, nil
		}
		return false, fmt.Errorf("%d of %d Running", running, benchPods)
	})
	if err != nil {
		t.Fatal(err)
	}
	sandbox := n.runPodSandboxTimes(t, fmt.Sprintf("bench-%d-", round))
	if _, err := n.kubectl("delete", "pods", "-l", "app=bench", "--wait=true", "--timeout=3m"); err != nil {
		t.Fatal(err)
	}
	return wall, sandbox
}

// runPodSandboxTimes pairs containerd's "RunPodSandbox for <pod>" and
// "... returns sandbox id" log lines of pods named prefix*.
func (n *node) runPodSandboxTimes(t *testing.T, prefix string) []time.Duration {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(n.dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	ts := regexp.MustCompile(`time="([^"]+)"`)
	starts := map[string]time.Time{}
	var out []time.Duration
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.Contains(l, "RunPodSandbox for") {
			continue
		}
		name := sandboxName.FindString(l)
		tm := ts.FindStringSubmatch(l)
		if name == "" || !strings.HasPrefix(name, prefix) || tm == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, tm[1])
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(l, "returns sandbox id"):
			if s, ok := starts[name]; ok {
				out = append(out, at.Sub(s))
				delete(starts, name)
			}
		case !strings.Contains(l, "failed"):
			starts[name] = at
		}
	}
	return out
}
