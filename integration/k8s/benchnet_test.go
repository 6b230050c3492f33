//go:build k8s

package k8s

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchNetPods are two echo pods on the first node and one on the second.
var benchNetPods = echoPod("bn-a1", nodeName, "benchnet") + echoPod("bn-a2", nodeName, "benchnet") + echoPod("bn-b", node2Name, "benchnet")

// Each measurement's duration and the number of rounds; the paths
// alternate within a round so load on the machine hits both alike.
const (
	benchNetSecs   = 5
	benchNetRounds = 3
)

// TestBenchCrossNode measures pod-to-pod TCP_RR (tcprr: one byte each way,
// one connection) and TCP throughput (iperf3, one stream) between two pods
// on one node and between pods on two nodes joined by netsteer-agent's
// routes, on the two-node harness of TestTwoNodes. The tools are the
// host's, run in the pods' network namespaces. Only `make bench-k8s-net`
// runs it (NETSTEER_K8S_BENCH=crossnode, NETSTEER_K8S_TCPRR).
func TestBenchCrossNode(t *testing.T) {
	if os.Getenv("NETSTEER_K8S_BENCH") != "crossnode" {
		t.Skip("benchmark: only make bench-k8s-net runs it (NETSTEER_K8S_BENCH is not crossnode)")
	}
	cp := requireNode(t)
	tcprr := os.Getenv("NETSTEER_K8S_TCPRR")
	if _, err := os.Stat(tcprr); err != nil {
		t.Fatalf("NETSTEER_K8S_TCPRR=%q: %v", tcprr, err)
	}
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Fatal(err)
	}
	w, _ := startTwoNodes(t, cp)
	waitRoutes(t, cp, []string{w.podCIDR(t).String() + " via " + node2IP + " dev eth0"})
	if err := cp.kubectlApply(benchNetPods); err != nil {
		t.Fatal(err)
	}
	pods := map[string]podInfo{}
	for _, p := range cp.waitRunning(t, "app=benchnet", 3) {
		pods[p.name] = p
	}
	pids := map[string]int{}
	for name, n := range map[string]*node{"bn-a1": cp, "bn-a2": cp, "bn-b": w} {
		pids[name] = n.podPID(t, name)
	}
	paths := []struct{ name, client, server string }{
		{"same-node", "bn-a1", "bn-a2"},
		{"cross-node", "bn-a1", "bn-b"},
	}
	for r := 1; r <= benchNetRounds; r++ {
		for _, p := range paths {
			c, s := pods[p.client], pods[p.server]
			tps := tcpRR(t, tcprr, pids[p.client], pids[p.server], s.ip)
			gbps := iperfGbps(t, pids[p.client], pids[p.server], s.ip)
			fmt.Printf("BENCHNET path=%s round=%d client=%s@%s server=%s@%s tcp_rr_tps=%.0f iperf_gbps=%.2f\n",
				p.name, r, c.name, c.node, s.name, s.node, tps, gbps)
		}
	}
	cp.kubectl("delete", "-n", "default", "pod", "-l", "app=benchnet", "--force", "--grace-period=0")
}

// podPID is the host PID of a process of pod name on node n (any of them:
// they share the pod's network namespace), found in the pod's cgroup under
// the node's private cgroupRoot.
func (n *node) podPID(t *testing.T, name string) int {
	t.Helper()
	uid, err := n.kubectl("get", "pod", name, "-n", "default", "-o", "jsonpath={.metadata.uid}")
	if err != nil || uid == "" {
		t.Fatalf("uid of pod %s: %q %v", name, uid, err)
	}
	root := filepath.Join("/sys/fs/cgroup/memory", n.cgroup)
	pid := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || pid != 0 || d.IsDir() || d.Name() != "cgroup.procs" || !strings.Contains(p, "/pod"+uid+"/") {
			return nil
		}
		data, _ := os.ReadFile(p)
		if f := strings.Fields(string(data)); len(f) > 0 {
			pid, _ = strconv.Atoi(f[0])
		}
		return nil
	})
	if pid == 0 {
		t.Fatalf("no process of pod %s (uid %s) under %s", name, uid, root)
	}
	return pid
}

// inPod starts a command in the network namespace of process pid.
func inPod(pid int, args ...string) *exec.Cmd {
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(pid), "-n", "--"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// startServer starts a server in pod pid and waits for a line containing
// ready on its stdout.
func startServer(t *testing.T, pid int, ready string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := inPod(pid, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(sc.Text(), ready) {
				ok = true
				found <- true
			}
		}
		if !ok {
			found <- false
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case ok := <-found:
		if ok {
			return cmd
		}
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("%v did not say %q", args, ready)
	return nil
}

func tcpRR(t *testing.T, tcprr string, client, server int, ip string) float64 {
	t.Helper()
	srv := startServer(t, server, "ready", tcprr, "server", "-listen", ip+":7000")
	defer func() { srv.Process.Kill(); srv.Wait() }()
	out, err := inPod(client, tcprr, "client", "-connect", ip+":7000", "-duration", fmt.Sprintf("%ds", benchNetSecs)).Output()
	if err != nil {
		t.Fatalf("tcprr client to %s: %v", ip, err)
	}
	var res struct {
		PerSecond float64 `json:"tps"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.PerSecond <= 0 {
		t.Fatalf("tcprr result %q: %v", out, err)
	}
	return res.PerSecond
}

func iperfGbps(t *testing.T, client, server int, ip string) float64 {
	t.Helper()
	srv := startServer(t, server, "Server listening", "iperf3", "-s", "-1", "-B", ip, "-p", "5201", "--forceflush")
	defer func() { srv.Process.Kill(); srv.Wait() }()
	out, err := inPod(client, "iperf3", "-c", ip, "-p", "5201", "-t", strconv.Itoa(benchNetSecs), "-J").Output()
	if err != nil {
		t.Fatalf("iperf3 to %s: %v: %s", ip, err, out)
	}
	var res struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.End.SumReceived.BitsPerSecond <= 0 {
		t.Fatalf("iperf3 result: %v\n%s", err, out)
	}
	return res.End.SumReceived.BitsPerSecond / 1e9
}
