//go:build k8s

package k8s

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ports the workloads use.
const (
	nodePort   = 30080
	hostPort   = 18080
	outsideSrv = outsideIP + ":9090"
)

// workloads are applied once and checked by the subtests in order.
const workloads = `apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 1
      enableServiceLinks: false
      containers:
      - {name: echo, image: ` + echoImage + `, imagePullPolicy: Never, ports: [{containerPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: echo-np, namespace: default}
spec:
  type: NodePort
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec:
  terminationGracePeriodSeconds: 1
  enableServiceLinks: false
  containers:
  - {name: echo, image: ` + echoImage + `, imagePullPolicy: Never}
---
apiVersion: v1
kind: Service
metadata: {name: client, namespace: default}
spec:
  selector: {app: client}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: hostport, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  enableServiceLinks: false
  containers:
  - {name: echo, image: ` + echoImage + `, imagePullPolicy: Never, ports: [{containerPort: 8080, hostPort: 18080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sysctl, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  enableServiceLinks: false
  securityContext:
    sysctls:
    - {name: net.ipv4.tcp_fin_timeout, value: "45"}
    - {name: net.ipv4.tcp_keepalive_time, value: "600"}
  containers:
  - {name: echo, image: ` + echoImage + `, imagePullPolicy: Never}
`

// echoReply is what nst-echo answers on /.
type echoReply struct{ Remote, Host string }

func parseReply(t *testing.T, body string) echoReply {
	t.Helper()
	var r echoReply
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("echo reply %q: %v", body, err)
	}
	return r
}

func remoteIP(t *testing.T, r echoReply) string {
	t.Helper()
	host, _, err := net.SplitHostPort(r.Remote)
	if err != nil {
		t.Fatalf("echo reply remote %q: %v", r.Remote, err)
	}
	return host
}

// podInfo is what the API server reports about a pod.
type podInfo struct {
	name, ip, phase, node string
}

func (n *node) pods(selector string) ([]podInfo, error) {
	args := []string{"get", "pods", "-n", "default", "-o", "json"}
	if selector != "" {
		args = append(args, "-l", selector)
	}
	out, err := n.kubectl(args...)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name              string  `json:"name"`
				DeletionTimestamp *string `json:"deletionTimestamp"`
			} `json:"metadata"`
			Spec   struct{ NodeName string } `json:"spec"`
			Status struct {
				Phase string `json:"phase"`
				PodIP string `json:"podIP"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, err
	}
	var pods []podInfo
	for _, it := range list.Items {
		if it.Metadata.DeletionTimestamp != nil {
			continue
		}
		pods = append(pods, podInfo{it.Metadata.Name, it.Status.PodIP, it.Status.Phase, it.Spec.NodeName})
	}
	return pods, nil
}

// waitRunning waits until want pods match selector, all Running with an IP.
func (n *node) waitRunning(t *testing.T, selector string, want int) []podInfo {
	t.Helper()
	var pods []podInfo
	err := waitFor("pods "+selector+" Running", 3*time.Minute, nil, func() (bool, error) {
		var err error
		if pods, err = n.pods(selector); err != nil || len(pods) != want {
			return false, fmt.Errorf("%d pods (%v)", len(pods), err)
		}
		for _, p := range pods {
			if p.phase != "Running" || p.ip == "" {
				return false, fmt.Errorf("pod %s is %s", p.name, p.phase)
			}
		}
		return true, nil
	})
	if err != nil {
		out, _ := n.kubectl("get", "events", "-A", "--sort-by=.lastTimestamp")
		t.Fatalf("%v\nevents:\n%s", err, tail(out, 30))
	}
	return pods
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// getFromNode fetches url from the node's netns, getFromOutside from the
// outside netns, getFromPod from inside the pod at podIP (its /fetch).
func (n *node) getFromNode(u string) (string, error) { return httpGetIn(n.netns, cfg.echoBin, u) }
func (n *node) getFromOutside(u string) (string, error) {
	return httpGetIn(n.outNetns, cfg.echoBin, u)
}
func (n *node) getFromPod(podIP, u string) (string, error) {
	return n.getFromNode("http://" + podIP + ":8080/fetch?url=" + url.QueryEscape(u))
}

func (n *node) nodeCondition(kind string) (status, message string, err error) {
	out, err := n.kubectl("get", "node", n.name, "-o", `jsonpath={range .status.conditions[?(@.type=="`+kind+`")]}{.status}{"\n"}{.message}{end}`)
	if err != nil {
		return "", "", err
	}
	status, message, _ = strings.Cut(out, "\n")
	return status, message, nil
}

func (n *node) podCIDR(t *testing.T) *net.IPNet {
	t.Helper()
	out, err := n.kubectl("get", "node", n.name, "-o", "jsonpath={.spec.podCIDR}")
	if err != nil {
		t.Fatal(err)
	}
	_, cidr, err := net.ParseCIDR(out)
	if err != nil {
		t.Fatalf("node podCIDR %q: %v", out, err)
	}
	return cidr
}

// daemonSetManifest is conf/kubernetes/daemonset.yaml as an operator would
// apply it; for containerd 1.6 the template's cniVersion is lowered to
// 1.0.0, as the README tells operators of 1.6.
func daemonSetManifest(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cfg.repo, "conf", "kubernetes", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, "image: "+shippedImage) {
		t.Fatalf("daemonset.yaml does not name %s; the test imports the image under that name", shippedImage)
	}
	if cfg.runtime == runtimeContainerd16 {
		if !strings.Contains(s, `"cniVersion": "1.1.0"`) {
			t.Fatal(`daemonset.yaml's template has no "cniVersion": "1.1.0" to lower for containerd 1.6`)
		}
		s = strings.ReplaceAll(s, `"cniVersion": "1.1.0"`, `"cniVersion": "1.0.0"`)
	}
	return s
}

func wantCNIVersion() string {
	if cfg.runtime == runtimeContainerd16 {
		return "1.0.0"
	}
	return "1.1.0"
}

func sha(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestNode(t *testing.T) {
	n := requireNode(t)
	installed := filepath.Join(n.dir, "opt-upper", "cni", "bin", "vethbridge")
	conflist := filepath.Join(n.dir, "etc-upper", "cni", "net.d", "10-netsteer.conflist")
	if cfg.install == installTemplate {
		conflist = filepath.Join(n.dir, "etc-upper", "cni", "net.d", "10-containerd-net.conflist") // containerd's name for it
	}
	var (
		echoPods            []podInfo
		client, hp, sysctlP podInfo
		echoSvc, clientSvc  string
	)
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			// Later checks build on earlier ones; go on only where they can
			// still say something.
			if name == "install" || name == "workloads" {
				t.FailNow()
			}
		}
	}

	step("install", func(t *testing.T) {
		if cfg.install == installTemplate {
			// The README's way without a DaemonSet: binaries installed by
			// hand, containerd renders conf_template once the kubelet
			// reports the pod CIDR.
			for _, b := range []string{"vethbridge", "host-local", "loopback", "portmap"} {
				if _, err := n.inNode("cp", filepath.Join(cfg.cniBin, b), "/opt/cni/bin/"+b); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			if err := n.kubectlApply(readRepo(t, "conf/kubernetes/rbac.yaml")); err != nil {
				t.Fatal(err)
			}
			if err := n.kubectlApply(daemonSetManifest(t)); err != nil {
				t.Fatal(err)
			}
		}
		err := waitFor("node Ready", 3*time.Minute, nil, func() (bool, error) {
			status, msg, err := n.nodeCondition("Ready")
			return status == "True", fmt.Errorf("Ready=%s %s (%v)", status, msg, err)
		})
		if err != nil {
			out, _ := n.kubectl("get", "pods", "-n", "kube-system", "-o", "wide")
			logs, _ := n.kubectl("logs", "-n", "kube-system", "ds/netsteer", "-c", "install")
			t.Fatalf("%v\n%s\ninstaller log:\n%s", err, out, logs)
		}
		data, err := os.ReadFile(conflist)
		if err != nil {
			t.Fatalf("the installer wrote no conflist: %v", err)
		}
		cidr := n.podCIDR(t)
		if !strings.Contains(string(data), `"subnet": "`+cidr.String()+`"`) || !strings.Contains(string(data), `"cniVersion": "`+wantCNIVersion()+`"`) {
			t.Errorf("conflist does not carry the node's podCIDR %s and cniVersion %s:\n%s", cidr, wantCNIVersion(), data)
		}
		if _, err := os.Stat(installed); err != nil {
			t.Errorf("vethbridge not installed into the node's /opt/cni/bin: %v", err)
		}
		// The DaemonSet's installer derives noMasqueradeCIDRs from the
		// node's pod CIDR widened to the cluster CIDR, plus the Service CIDR.
		wantNoMasq := `"noMasqueradeCIDRs": ["` + serviceCIDR + `","` + clusterCIDR + `"]`
		if cfg.install == installDaemonSet && !strings.Contains(string(data), wantNoMasq) {
			t.Errorf("conflist does not carry %s:\n%s", wantNoMasq, data)
		}
	})

	step("workloads", func(t *testing.T) {
		if err := n.waitDefaultServiceAccount(); err != nil {
			t.Fatal(err)
		}
		if err := n.kubectlApply(workloads); err != nil {
			t.Fatal(err)
		}
		echoPods = n.waitRunning(t, "app=echo", 2)
		client = n.waitRunning(t, "app=client", 1)[0]
		for _, p := range n.waitRunning(t, "", 5) {
			switch p.name {
			case "hostport":
				hp = p
			case "sysctl":
				sysctlP = p
			}
		}
		cidr := n.podCIDR(t)
		all := append(append([]podInfo{}, echoPods...), client, hp, sysctlP)
		for _, p := range all {
			if !cidr.Contains(net.ParseIP(p.ip)) || p.node != nodeName {
				t.Errorf("pod %s has address %s on node %q, want one from the node's podCIDR %s", p.name, p.ip, p.node, cidr)
			}
		}
		// What the kernel says: one veth per pod on our bridge.
		out, err := sh("ip", "-n", n.netns, "-o", "link", "show", "master", "netsteer0", "type", "veth")
		if err != nil {
			t.Fatal(err)
		}
		if got := len(strings.Split(strings.TrimSpace(out), "\n")); got != len(all) {
			t.Errorf("%d veths on netsteer0 for %d pods:\n%s", got, len(all), out)
		}
		if echoSvc, err = n.kubectl("get", "svc", "echo", "-o", "jsonpath={.spec.clusterIP}"); err != nil {
			t.Fatal(err)
		}
		if clientSvc, err = n.kubectl("get", "svc", "client", "-o", "jsonpath={.spec.clusterIP}"); err != nil {
			t.Fatal(err)
		}
	})

	step("the netns note on rps.sockFlowEntries is said at most once", func(t *testing.T) {
		// The node is itself a netns, where the global sysctl is invisible:
		// the plugin may say so, but not on every ADD into the runtime's log.
		data, err := os.ReadFile(filepath.Join(n.dir, "containerd.log"))
		if err != nil {
			t.Fatal(err)
		}
		if c := strings.Count(string(data), "rps.sockFlowEntries not applied"); c > 1 {
			t.Errorf("the runtime's log carries the sockFlowEntries note %d times for %d pods", c, len(echoPods)+3)
		}
	})

	step("kube-proxy's FORWARD rules see pod traffic before ours", func(t *testing.T) {
		if cfg.proxyMode != "iptables" {
			t.Skip("kube-proxy in nftables mode keeps its forward rules in its own table, not in iptables' FORWARD")
		}
		// KUBE-FORWARD drops ctstate INVALID; a jump of ours that accepts
		// pod traffic first would hide it from that rule.
		out, err := n.inNode("iptables", "-w", "-t", "filter", "-S", "FORWARD")
		if err != nil {
			t.Fatal(err)
		}
		kube, ours := -1, -1
		for i, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "-j KUBE-FORWARD") && kube < 0 {
				kube = i
			}
			if strings.Contains(l, "-j NSTR-FWD-") && ours < 0 {
				ours = i
			}
		}
		if kube < 0 || ours < 0 {
			t.Fatalf("FORWARD lacks KUBE-FORWARD (%d) or netsteer's jump (%d):\n%s", kube, ours, out)
		}
		if ours < kube {
			t.Errorf("netsteer's FORWARD jump (rule %d) sits before KUBE-FORWARD (rule %d):\n%s", ours, kube, out)
		}
	})

	step("pod-to-pod keeps the source address", func(t *testing.T) {
		for _, p := range echoPods {
			body, err := n.getFromPod(client.ip, "http://"+p.ip+":8080/")
			if err != nil {
				t.Fatal(err)
			}
			if got := remoteIP(t, parseReply(t, body)); got != client.ip {
				t.Errorf("%s saw the client as %s, want the client pod's %s", p.name, got, client.ip)
			}
		}
	})

	step("ClusterIP from a pod", func(t *testing.T) {
		n.waitServing(t, client.ip, "http://"+echoSvc+"/")
		seen := map[string]bool{}
		for i := 0; i < 20 && len(seen) < len(echoPods); i++ {
			body, err := n.getFromPod(client.ip, "http://"+echoSvc+"/")
			if err != nil {
				t.Fatal(err)
			}
			r := parseReply(t, body)
			seen[r.Host] = true
			if got := remoteIP(t, r); got != client.ip {
				t.Errorf("through the ClusterIP the backend saw %s, want the client pod's %s", got, client.ip)
			}
		}
		for _, p := range echoPods {
			if !seen[p.name] {
				t.Errorf("ClusterIP %s never reached backend %s (reached %v)", echoSvc, p.name, seen)
			}
		}
	})

	step("hairpin: a pod through its own Service", func(t *testing.T) {
		n.waitServing(t, client.ip, "http://"+clientSvc+"/")
		body, err := n.getFromPod(client.ip, "http://"+clientSvc+"/")
		if err != nil {
			t.Fatal(err)
		}
		if r := parseReply(t, body); r.Host != client.name {
			t.Errorf("Service %s answered from %s, want the client pod itself", clientSvc, r.Host)
		}
	})

	step("NodePort from the node", func(t *testing.T) {
		body, err := n.getFromNode(fmt.Sprintf("http://%s:%d/", nodeIP, nodePort))
		if err != nil {
			t.Fatal(err)
		}
		parseReply(t, body)
	})

	step("NodePort from outside", func(t *testing.T) {
		body, err := n.getFromOutside(fmt.Sprintf("http://%s:%d/", nodeIP, nodePort))
		if err != nil {
			t.Fatalf("%v (kube-proxy %s, FORWARD %s)", err, cfg.proxyMode, cfg.forward)
		}
		parseReply(t, body)
	})

	step("hostPort from outside", func(t *testing.T) {
		body, err := n.getFromOutside(fmt.Sprintf("http://%s:%d/", nodeIP, hostPort))
		if err != nil {
			t.Fatalf("%v (kube-proxy %s, FORWARD %s)", err, cfg.proxyMode, cfg.forward)
		}
		r := parseReply(t, body)
		if r.Host != hp.name {
			t.Errorf("hostPort %d answered from %s, want pod %s", hostPort, r.Host, hp.name)
		}
		if got := remoteIP(t, r); got != outsideIP {
			t.Errorf("the hostPort pod saw the caller as %s, want %s", got, outsideIP)
		}
	})

	step("pod to outside is masqueraded", func(t *testing.T) {
		body, err := n.getFromPod(client.ip, "http://"+outsideSrv+"/")
		if err != nil {
			t.Fatal(err)
		}
		if got := remoteIP(t, parseReply(t, body)); got != nodeIP {
			t.Errorf("outside saw the pod as %s, want the node's %s", got, nodeIP)
		}
	})

	step("pod sysctls win over the network's", func(t *testing.T) {
		read := func(ip, key string) string {
			v, err := n.getFromNode("http://" + ip + ":8080/sysctl?key=" + key)
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimSpace(v)
		}
		// The shipped config sets tcp_fin_timeout 30 and inherits
		// tcp_keepalive_* from the node; the pod sets both.
		for _, c := range []struct{ ip, key, want, why string }{
			{client.ip, "net.ipv4.tcp_fin_timeout", "30", "the network's sysctl"},
			{client.ip, "net.ipv4.tcp_keepalive_time", keepaliveNode, "inherited from the node"},
			{sysctlP.ip, "net.ipv4.tcp_fin_timeout", "45", "the pod's securityContext.sysctls"},
			{sysctlP.ip, "net.ipv4.tcp_keepalive_time", "600", "the pod's securityContext.sysctls"},
		} {
			if got := read(c.ip, c.key); got != c.want {
				t.Errorf("%s in pod %s = %s, want %s (%s)", c.key, c.ip, got, c.want, c.why)
			}
		}
	})

	step("DaemonSet rolling update keeps pods reachable", func(t *testing.T) {
		if !cfg.full {
			t.Skip("runs in the matrix's full configuration only (NETSTEER_K8S_FULL): it does not depend on the runtime, proxy mode or FORWARD policy")
		}
		if cfg.install == installTemplate {
			t.Skip("no DaemonSet to roll out: this node renders containerd's conf_template")
		}
		before := sha(installed)
		if _, err := n.ctr("images", "import", cfg.nextTar); err != nil {
			t.Fatal(err)
		}
		targets := append(append([]podInfo{}, echoPods...), client, sysctlP)
		var probes, failures atomic.Int64
		var firstErr atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				for _, p := range targets {
					select {
					case <-stop:
						return
					default:
					}
					probes.Add(1)
					if _, err := n.getFromNode("http://" + p.ip + ":8080/"); err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}
			}
		}()
		_, err := n.kubectl("-n", "kube-system", "set", "image", "ds/netsteer", "install="+nextImage)
		if err == nil {
			_, err = n.kubectl("-n", "kube-system", "rollout", "status", "ds/netsteer", "--timeout=3m")
		}
		// Keep probing a little after the new installer finished.
		time.Sleep(3 * time.Second)
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if after := sha(installed); after == before {
			t.Errorf("vethbridge in /opt/cni/bin is unchanged after the rollout (%s)", after)
		}
		t.Logf("%d probes during the rollout, %d failed", probes.Load(), failures.Load())
		if failures.Load() != 0 || probes.Load() == 0 {
			t.Errorf("%d of %d probes of running pods failed during the rollout; first: %v", failures.Load(), probes.Load(), firstErr.Load())
		}
		// A pod made by the new binary works too.
		if _, err := n.kubectl("scale", "deployment/echo", "--replicas=3"); err != nil {
			t.Fatal(err)
		}
		pods := n.waitRunning(t, "app=echo", 3)
		for _, p := range pods {
			if _, err := n.getFromPod(client.ip, "http://"+p.ip+":8080/"); err != nil {
				t.Errorf("pod %s after the rollout: %v", p.name, err)
			}
		}
	})

	step("broken backend turns NetworkReady false", func(t *testing.T) {
		if !cfg.full {
			t.Skip("runs in the matrix's full configuration only (NETSTEER_K8S_FULL): it does not depend on the proxy mode or FORWARD policy")
		}
		if wantCNIVersion() != "1.1.0" {
			t.Skipf("cniVersion %s has no STATUS verb: the runtime cannot learn the network is broken", wantCNIVersion())
		}
		n.checkNetworkReady(t)
	})

	step("deleting everything leaves nothing behind", func(t *testing.T) {
		pods, err := n.pods("")
		if err != nil {
			t.Fatal(err)
		}
		ids := n.sandboxIDs(t)
		if _, err := n.kubectl("delete", "-n", "default", "deployment/echo", "pod/client", "pod/hostport", "pod/sysctl", "svc/echo", "svc/echo-np", "svc/client", "--wait=true", "--timeout=2m"); err != nil {
			t.Fatal(err)
		}
		err = waitFor("no pods left", 2*time.Minute, nil, func() (bool, error) {
			left, err := n.pods("")
			return err == nil && len(left) == 0, fmt.Errorf("%d pods left (%v)", len(left), err)
		})
		if err != nil {
			t.Fatal(err)
		}
		err = waitFor("no sandboxes left", 2*time.Minute, nil, func() (bool, error) {
			left := n.sandboxIDs(t)
			return len(left) == 0, fmt.Errorf("sandboxes %v", left)
		})
		if err != nil {
			t.Fatal(err)
		}
		var ips []string
		for _, p := range pods {
			ips = append(ips, p.ip)
		}
		n.checkNothingLeft(t, ips, ids)
	})
}

func readRepo(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cfg.repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// waitServing waits until url answers from the pod at ip from: kube-proxy
// programs a new Service's endpoints a moment after the API server has
// them, and until then its rules refuse the connection.
func (n *node) waitServing(t *testing.T, from, url string) {
	t.Helper()
	err := waitFor("Service "+url+" answering", 2*time.Minute, nil, func() (bool, error) {
		_, err := n.getFromPod(from, url)
		return err == nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
}
