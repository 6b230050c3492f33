//go:build k8s

package k8s

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Environment (set by mk/k8s.mk):
//
//	NETSTEER_K8S_BIN         kube-* binaries, kubectl and etcd (scripts/k8s-build.sh)
//	NETSTEER_K8S_CONTAINERD  containerd 2.x, its shim and ctr
//	NETSTEER_K8S_IMAGES      pause.tar, echo.tar, netsteer.tar, netsteer-next.tar, nst-echo
//	NETSTEER_K8S_REPO        the repository root (conf/kubernetes)
//	NETSTEER_K8S_RUNTIME     containerd2 (default) or containerd1.6 (Debian's)
//	NETSTEER_K8S_PROXY_MODE  iptables (default) or nftables
//	NETSTEER_K8S_FORWARD     the node's FORWARD policy: ACCEPT (default) or DROP
//	NETSTEER_K8S_INSTALL     daemonset (default: conf/kubernetes) or template (binaries
//	                         from NETSTEER_K8S_CNI_BIN, containerd's conf_template)
//	NETSTEER_K8S_FULL        "false": leave out the checks that do not depend on the
//	                         three above (rolling update, NetworkReady); default true
//	CI=true                  a missing prerequisite fails instead of skipping
const (
	runtimeContainerd2  = "containerd2"
	runtimeContainerd16 = "containerd1.6"

	installDaemonSet = "daemonset"
	installTemplate  = "template"

	// Image names. The pause image is the sandbox image, under the name
	// containerd's config pins.
	pauseImage   = "registry.k8s.io/pause:3.10"
	echoImage    = "localhost/netsteer/echo:test"
	shippedImage = "ghcr.io/netsteer/netsteer:v0.1.0" // what conf/kubernetes/daemonset.yaml names
	nextImage    = "ghcr.io/netsteer/netsteer:v0.1.0-next"
)

type config struct {
	k8sBin, containerdBin, images, repo string
	k8sMinor                            int
	runtime, proxyMode, forward         string
	full                                bool
	install, cniBin                     string
	pauseTar, echoTar, netsteerTar      string
	nextTar, echoBin                    string
}

var (
	cfg  config
	the  *node // the running node, shared by every check
	why  string
	isCI = os.Getenv("CI") == "true"
)

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func loadConfig() (config, string) {
	c := config{
		k8sBin: os.Getenv("NETSTEER_K8S_BIN"), containerdBin: os.Getenv("NETSTEER_K8S_CONTAINERD"),
		images: os.Getenv("NETSTEER_K8S_IMAGES"), repo: os.Getenv("NETSTEER_K8S_REPO"),
		runtime:   getenv("NETSTEER_K8S_RUNTIME", runtimeContainerd2),
		proxyMode: getenv("NETSTEER_K8S_PROXY_MODE", "iptables"),
		forward:   getenv("NETSTEER_K8S_FORWARD", "ACCEPT"),
		full:      getenv("NETSTEER_K8S_FULL", "true") != "false",
		install:   getenv("NETSTEER_K8S_INSTALL", installDaemonSet),
		cniBin:    os.Getenv("NETSTEER_K8S_CNI_BIN"),
	}
	if os.Geteuid() != 0 {
		return c, "not root: the node needs network and mount namespaces, cgroups and iptables"
	}
	if c.k8sBin == "" || c.images == "" || c.repo == "" {
		return c, "NETSTEER_K8S_BIN, NETSTEER_K8S_IMAGES and NETSTEER_K8S_REPO must be set (run make test-k8s)"
	}
	switch {
	case c.runtime != runtimeContainerd2 && c.runtime != runtimeContainerd16:
		return c, fmt.Sprintf("NETSTEER_K8S_RUNTIME=%q: want %s or %s", c.runtime, runtimeContainerd2, runtimeContainerd16)
	case c.proxyMode != "iptables" && c.proxyMode != "nftables":
		return c, fmt.Sprintf("NETSTEER_K8S_PROXY_MODE=%q: want iptables or nftables", c.proxyMode)
	case c.forward != "ACCEPT" && c.forward != "DROP":
		return c, fmt.Sprintf("NETSTEER_K8S_FORWARD=%q: want ACCEPT or DROP", c.forward)
	case c.install != installDaemonSet && c.install != installTemplate:
		return c, fmt.Sprintf("NETSTEER_K8S_INSTALL=%q: want %s or %s", c.install, installDaemonSet, installTemplate)
	case c.install == installTemplate && c.cniBin == "":
		return c, "NETSTEER_K8S_INSTALL=template needs NETSTEER_K8S_CNI_BIN (the built plugins)"
	}
	c.pauseTar, c.echoTar = filepath.Join(c.images, "pause.tar"), filepath.Join(c.images, "echo.tar")
	c.netsteerTar, c.nextTar = filepath.Join(c.images, "netsteer.tar"), filepath.Join(c.images, "netsteer-next.tar")
	c.echoBin = filepath.Join(c.images, "nst-echo")
	need := []string{c.pauseTar, c.echoTar, c.netsteerTar, c.nextTar, c.echoBin}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"} {
		need = append(need, filepath.Join(c.k8sBin, b))
	}
	if c.runtime == runtimeContainerd2 {
		for _, b := range []string{"containerd", "containerd-shim-runc-v2", "ctr"} {
			need = append(need, filepath.Join(c.containerdBin, b))
		}
	} else {
		need = append(need, "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", "/usr/bin/ctr")
	}
	for _, f := range need {
		if _, err := os.Stat(f); err != nil {
			return c, fmt.Sprintf("%s missing (make test-k8s builds it): %v", f, err)
		}
	}
	tools := []string{"ip", "iptables", "iptables-save", "nsenter", "unshare", "curl", "runc", "mount"}
	if c.proxyMode == "nftables" {
		tools = append(tools, "nft")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return c, fmt.Sprintf("%s not in PATH (make test-k8s installs it)", tool)
		}
	}
	out, err := exec.Command(filepath.Join(c.k8sBin, "kubelet"), "--version").Output()
	if err != nil {
		return c, fmt.Sprintf("kubelet --version: %v", err)
	}
	// "Kubernetes v1.34.2"
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "Kubernetes v")
	if parts := strings.Split(v, "."); len(parts) >= 2 {
		c.k8sMinor, _ = strconv.Atoi(parts[1])
	}
	if c.k8sMinor == 0 {
		return c, fmt.Sprintf("kubelet --version said %q", out)
	}
	return c, ""
}

func TestMain(m *testing.M) {
	cfg, why = loadConfig()
	if why != "" {
		os.Exit(m.Run()) // every test skips (or fails under CI) with the reason
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "k8s: "+format+"\n", a...) }
	before := hostSysctls()
	n, err := startNode(cfg, logf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "k8s: starting the node failed: %v\n", err)
		os.Exit(1)
	}
	the = n
	// An interrupt must still tear the node down.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		logf("interrupted: tearing the node down")
		n.stop()
		os.Exit(1)
	}()
	code := m.Run()
	if code != 0 {
		n.dumpLogs()
	}
	n.stop()
	if after := hostSysctls(); after != before {
		fmt.Fprintf(os.Stderr, "k8s: the node changed host-global sysctls:\n%s\nwas:\n%s\n", after, before)
		code = 1
	}
	if leak := hostLeaks(n); leak != "" {
		fmt.Fprintf(os.Stderr, "k8s: the node left something behind: %s\n", leak)
		code = 1
	}
	os.Exit(code)
}

// requireNode skips t, or fails it under CI, when the node could not run.
func requireNode(t *testing.T) *node {
	t.Helper()
	if why != "" {
		if isCI {
			t.Fatalf("prerequisite missing (CI=true makes this a failure): %s", why)
		}
		t.Skipf("prerequisite missing: %s", why)
	}
	return the
}

// hostLeaks reports anything of node n still on the machine: its
// namespaces, directory, cgroups, or processes in its mount namespace.
func hostLeaks(n *node) string {
	var leaks []string
	for _, ns := range []string{n.netns, n.outNetns} {
		if ns == "" {
			continue // a worker's outside is the first node's
		}
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			leaks = append(leaks, "netns "+ns)
		}
	}
	if _, err := os.Stat(n.dir); err == nil {
		leaks = append(leaks, "directory "+n.dir)
	}
	for _, d := range n.cgroupDirs() {
		if _, err := os.Stat(d); err == nil {
			leaks = append(leaks, "cgroup "+d)
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), n.dir) {
		leaks = append(leaks, "a mount under "+n.dir+" in the host's mount namespace")
	}
	return strings.Join(leaks, ", ")
}

// hostSysctls reads the host-global sysctls the kubelet wants to set; the
// node pins them to files in its own mount namespace, so they must not
// change on the machine.
func hostSysctls() string {
	var b strings.Builder
	for _, k := range []string{"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes"} {
		v, err := os.ReadFile("/proc/sys/" + k)
		fmt.Fprintf(&b, "%s=%s (%v)\n", k, strings.TrimSpace(string(v)), err)
	}
	return b.String()
}
