//go:build k8s

package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentProto is the routing protocol conf/kubernetes/daemonset.yaml's agent
// marks its routes with (netsteer-agent's default).
const agentProto = "158"

// echoPod is a Pod of the echo image pinned to node, labelled app=app.
func echoPod(name, node, app string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `, namespace: default, labels: {app: ` + app + `}}
spec:
  nodeName: ` + node + `
  terminationGracePeriodSeconds: 1
  enableServiceLinks: false
  containers:
  - {name: echo, image: ` + echoImage + `, imagePullPolicy: Never, ports: [{containerPort: 8080}]}
---
`
}

// twoNodePods are one echo pod pinned to each node, and a Service over both.
var twoNodePods = echoPod("x-a", nodeName, "xnode") + echoPod("x-b", node2Name, "xnode") + `apiVersion: v1
kind: Service
metadata: {name: xnode, namespace: default}
spec:
  selector: {app: xnode}
  ports: [{port: 80, targetPort: 8080}]
`

// TestTwoNodes runs a second node on the first node's L2 segment, joined to
// its control plane, with netsteer's DaemonSet (installer and agent) on
// both, and checks what the kernels and the API server report: the agent's
// routes, pod-to-pod and Service traffic across nodes, the agent's restart,
// its opt-out, a Node's deletion and the teardown.
func TestTwoNodes(t *testing.T) {
	cp := requireNode(t)
	if cfg.install != installDaemonSet {
		t.Skip("the two-node test installs netsteer by its DaemonSet (NETSTEER_K8S_INSTALL=daemonset)")
	}
	w, agents := startTwoNodes(t, cp)
	netA, netB := cp.podCIDR(t), w.podCIDR(t)
	cidrA, cidrB := netA.String(), netB.String()
	// Each node routes the other's pod CIDR via the other's InternalIP, in
	// a route of the agent's protocol, and has no other route of it.
	wantA, wantB := []string{cidrB + " via " + node2IP + " dev eth0"}, []string{cidrA + " via " + nodeIP + " dev eth0"}
	waitRoutes(t, cp, wantA)
	waitRoutes(t, w, wantB)
	t.Logf("%s: %v; %s: %v", nodeName, wantA, node2Name, wantB)

	t.Run("metrics count the route", func(t *testing.T) {
		out, err := cp.inNode("curl", "-fsS", "http://127.0.0.1:9658/metrics")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "\nnetsteer_podroutes_installed 1\n") {
			t.Errorf("the agent's /metrics does not report 1 route installed:\n%s", out)
		}
	})

	if err := cp.kubectlApply(twoNodePods); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// x-b's node may be gone by now: remove the object without waiting
		// for a kubelet.
		cp.kubectl("delete", "-n", "default", "pod/x-a", "pod/x-b", "svc/xnode", "--force", "--grace-period=0", "--ignore-not-found")
	})
	var a, b podInfo
	for _, p := range cp.waitRunning(t, "app=xnode", 2) {
		switch p.node {
		case nodeName:
			a = p
		case node2Name:
			b = p
		}
	}
	if !netA.Contains(net.ParseIP(a.ip)) || !netB.Contains(net.ParseIP(b.ip)) {
		t.Fatalf("want x-a on %s in %s and x-b on %s in %s, got %+v and %+v", nodeName, cidrA, node2Name, cidrB, a, b)
	}
	// Each pod is fetched through its own node's netns, the other across.
	from := map[string]*node{a.name: cp, b.name: w}

	t.Run("pods on different nodes keep their source addresses", func(t *testing.T) {
		for _, c := range [][2]podInfo{{a, b}, {b, a}} {
			client, server := c[0], c[1]
			body, err := from[client.name].getFromPod(client.ip, "http://"+server.ip+":8080/")
			if err != nil {
				t.Fatalf("%s (%s) to %s (%s): %v", client.name, client.node, server.name, server.node, err)
			}
			r := parseReply(t, body)
			if r.Host != server.name {
				t.Errorf("%s answered instead of %s", r.Host, server.name)
			}
			if got := remoteIP(t, r); got != client.ip {
				t.Errorf("%s on %s saw %s on %s as %s, want its pod address %s", server.name, server.node, client.name, client.node, got, client.ip)
			}
		}
	})

	t.Run("a Service with a backend on each node answers from both", func(t *testing.T) {
		svc, err := cp.kubectl("get", "svc", "xnode", "-n", "default", "-o", "jsonpath={.spec.clusterIP}")
		if err != nil {
			t.Fatal(err)
		}
		for _, client := range []podInfo{a, b} {
			seen := map[string]bool{}
			var last error
			for i := 0; i < 40 && len(seen) < 2; i++ {
				body, err := from[client.name].getFromPod(client.ip, "http://"+svc+"/")
				if err != nil {
					last = err // kube-proxy may not have synced the endpoints yet
					time.Sleep(500 * time.Millisecond)
					continue
				}
				r := parseReply(t, body)
				seen[r.Host] = true
				// kube-proxy masquerades a pod reaching itself through a
				// Service (hairpin); every other backend sees the pod.
				if got := remoteIP(t, r); r.Host != client.name && got != client.ip {
					t.Errorf("through ClusterIP %s, %s saw %s as %s, want %s", svc, r.Host, client.name, got, client.ip)
				}
			}
			if !seen[a.name] || !seen[b.name] {
				t.Errorf("from %s on %s, ClusterIP %s reached %v, want both %s and %s (last error: %v)", client.name, client.node, svc, seen, a.name, b.name, last)
			}
		}
	})

	t.Run("restarting the agent changes no route", func(t *testing.T) {
		mons := []*routeMonitor{startRouteMonitor(t, cp), startRouteMonitor(t, w)}
		if _, err := cp.kubectl("delete", "pod", "-n", "kube-system", "-l", "app.kubernetes.io/name=netsteer", "--wait=true", "--timeout=2m"); err != nil {
			t.Fatal(err)
		}
		cp.waitAgents(t, agents, 2)
		for _, m := range mons {
			if ev := m.stop(cidrA, cidrB); ev != "" {
				t.Errorf("routes to pod CIDRs changed on %s while the agents restarted:\n%s", m.n.name, ev)
			}
		}
		checkRoutes(t, cp, wantA)
		checkRoutes(t, w, wantB)
	})

	t.Run("opt-out deletes the agent's routes, opt-in restores them", func(t *testing.T) {
		setPodRoutes(t, cp, "off")
		waitRoutes(t, cp, nil)
		waitRoutes(t, w, nil)
		setPodRoutes(t, cp, "on")
		waitRoutes(t, cp, wantA)
		waitRoutes(t, w, wantB)
	})

	t.Run("deleting a Node removes its route from the other node", func(t *testing.T) {
		if _, err := cp.kubectl("delete", "node", node2Name, "--wait=true", "--timeout=1m"); err != nil {
			t.Fatal(err)
		}
		waitRoutes(t, cp, nil)
	})

	top := t
	t.Run("teardown leaves no route of ours", func(t *testing.T) {
		port := "nsto" + w.id
		if top.Failed() {
			w.dumpLogs() // before stop removes them
		}
		w.stop()
		if leak := hostLeaks(w); leak != "" {
			t.Errorf("the second node left something behind: %s", leak)
		}
		if out, err := sh("ip", "-n", cp.outNetns, "link", "show", port); err == nil {
			t.Errorf("the second node's port is still on the outside bridge: %s", out)
		}
		checkRoutes(t, cp, nil)
		out, err := sh("ip", "-n", cp.netns, "route", "show")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, node2IP) || strings.Contains(out, cidrB) {
			t.Errorf("%s still routes towards the removed node:\n%s", nodeName, out)
		}
	})
}

// startTwoNodes applies the shipped manifests (whatever an earlier test
// rolled out), starts the second node and waits until it is Ready with a
// Ready DaemonSet pod on each node; it returns the node (stopped when t
// ends) and those pods' names.
func startTwoNodes(t *testing.T, cp *node) (*node, []string) {
	t.Helper()
	for _, m := range []string{readRepo(t, "conf/kubernetes/rbac.yaml"), daemonSetManifest(t)} {
		if err := cp.kubectlApply(m); err != nil {
			t.Fatal(err)
		}
	}
	cp.waitAgents(t, nil, 1)
	w, err := startWorker(cp, node2Name, node2IP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			w.dumpLogs()
		}
		w.stop()
	})
	err = waitFor("node "+node2Name+" Ready", 3*time.Minute, nil, func() (bool, error) {
		status, msg, err := w.nodeCondition("Ready")
		return status == "True", fmt.Errorf("Ready=%s %s (%v)", status, msg, err)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.waitDefaultServiceAccount(); err != nil {
		t.Fatal(err)
	}
	return w, cp.waitAgents(t, nil, 2)
}

// waitDefaultServiceAccount waits for the controller manager to make the
// default namespace's service account, which every pod there needs.
func (n *node) waitDefaultServiceAccount() error {
	return waitFor("default service account", time.Minute, nil, func() (bool, error) {
		_, err := n.kubectl("get", "serviceaccount", "default", "-n", "default")
		return err == nil, err
	})
}

// ourRoutes lists n's routes of the agent's protocol as "dst via gw dev d",
// sorted.
func ourRoutes(n *node) ([]string, error) {
	out, err := sh("ip", "-n", n.netns, "-j", "route", "show", "proto", agentProto)
	if err != nil {
		return nil, err
	}
	var rs []struct{ Dst, Gateway, Dev string }
	if s := strings.TrimSpace(out); s != "" {
		if err := json.Unmarshal([]byte(s), &rs); err != nil {
			return nil, fmt.Errorf("ip -j route: %w: %s", err, out)
		}
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Dst+" via "+r.Gateway+" dev "+r.Dev)
	}
	slices.Sort(got)
	return got, nil
}

func checkRoutes(t *testing.T, n *node, want []string) {
	t.Helper()
	got, err := ourRoutes(n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: routes of protocol %s are %q, want %q", n.name, agentProto, got, want)
	}
}

// waitRoutes waits until n's routes of the agent's protocol are want.
func waitRoutes(t *testing.T, n *node, want []string) {
	t.Helper()
	err := waitFor(n.name+"'s pod routes", 2*time.Minute, nil, func() (bool, error) {
		got, err := ourRoutes(n)
		return err == nil && slices.Equal(got, want), fmt.Errorf("have %q, want %q (%v)", got, want, err)
	})
	if err != nil {
		logs, _ := n.kubectl("logs", "-n", "kube-system", "ds/netsteer", "-c", "agent", "--tail=30")
		t.Fatalf("%v\nan agent's log:\n%s", err, logs)
	}
}

// waitAgents waits until want DaemonSet pods exist, one per node, all
// Ready (the agent's /readyz: a reconcile succeeded), none named in old;
// it returns their names.
func (n *node) waitAgents(t *testing.T, old []string, want int) []string {
	t.Helper()
	var names []string
	err := waitFor("netsteer DaemonSet pods Ready", 4*time.Minute, nil, func() (bool, error) {
		out, err := n.kubectl("get", "pods", "-n", "kube-system", "-l", "app.kubernetes.io/name=netsteer", "-o", "json")
		if err != nil {
			return false, err
		}
		var list struct {
			Items []struct {
				Metadata struct {
					Name              string  `json:"name"`
					DeletionTimestamp *string `json:"deletionTimestamp"`
				} `json:"metadata"`
				Spec   struct{ NodeName string } `json:"spec"`
				Status struct {
					Conditions []struct{ Type, Status string } `json:"conditions"`
				} `json:"status"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return false, err
		}
		names = nil
		nodes := map[string]bool{}
		for _, it := range list.Items {
			if it.Metadata.DeletionTimestamp != nil || slices.Contains(old, it.Metadata.Name) {
				return false, fmt.Errorf("%s not replaced yet", it.Metadata.Name)
			}
			ready := false
			for _, c := range it.Status.Conditions {
				ready = ready || (c.Type == "Ready" && c.Status == "True")
			}
			if !ready {
				return false, fmt.Errorf("%s on %s not Ready", it.Metadata.Name, it.Spec.NodeName)
			}
			names = append(names, it.Metadata.Name)
			nodes[it.Spec.NodeName] = true
		}
		return len(names) == want && len(nodes) == want, fmt.Errorf("%d Ready pods on %d nodes, want %d", len(names), len(nodes), want)
	})
	if err != nil {
		out, _ := n.kubectl("get", "pods", "-n", "kube-system", "-o", "wide")
		logs, _ := n.kubectl("logs", "-n", "kube-system", "ds/netsteer", "-c", "agent", "--tail=30")
		t.Fatalf("%v\n%s\nan agent's log:\n%s", err, out, logs)
	}
	return names
}

// setPodRoutes flips the DaemonSet's documented switch and waits for the
// rollout.
func setPodRoutes(t *testing.T, n *node, v string) {
	t.Helper()
	if _, err := n.kubectl("-n", "kube-system", "set", "env", "ds/netsteer", "-c", "agent", "NETSTEER_POD_ROUTES="+v); err != nil {
		t.Fatal(err)
	}
	if _, err := n.kubectl("-n", "kube-system", "rollout", "status", "ds/netsteer", "--timeout=3m"); err != nil {
		t.Fatal(err)
	}
}

// routeMonitor records the route changes the kernel announces in one
// node's netns (ip monitor), started by this test and stopped by PID.
type routeMonitor struct {
	n   *node
	cmd *exec.Cmd
	out bytes.Buffer
}

func startRouteMonitor(t *testing.T, n *node) *routeMonitor {
	t.Helper()
	m := &routeMonitor{n: n}
	m.cmd = exec.Command("ip", "-n", n.netns, "monitor", "route")
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.kill() })
	// ip subscribes to the route group right after it starts; give it that
	// moment so the changes that follow are all seen.
	time.Sleep(500 * time.Millisecond)
	return m
}

func (m *routeMonitor) kill() {
	if m.cmd.ProcessState == nil {
		m.cmd.Process.Signal(os.Interrupt)
		m.cmd.Wait()
	}
}

// stop ends the monitor and returns the announcements that name any of
// cidrs.
func (m *routeMonitor) stop(cidrs ...string) string {
	m.kill()
	var hits []string
	for _, l := range strings.Split(m.out.String(), "\n") {
		for _, c := range cidrs {
			if strings.Contains(l, c) {
				hits = append(hits, l)
				break
			}
		}
	}
	return strings.Join(hits, "\n")
}
