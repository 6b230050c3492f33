//go:build k8s

package k8s

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// The node's fixed addresses. Everything lives in namespaces this test
// makes, so they cannot collide with the machine's or another test's.
const (
	nodeIP      = "192.168.237.1"
	outsideIP   = "192.168.237.2"
	clusterCIDR = "10.244.0.0/16"
	serviceCIDR = "10.96.0.0/12"
	nodeName    = "nst-node"
	// The second node of the two-node test, on the same L2 segment.
	node2IP   = "192.168.237.3"
	node2Name = "nst-node2"
	// outsideMAC is fixed so the outside bridge keeps its address when a
	// second node's port joins it (a bridge otherwise takes its lowest
	// port's, and the first node's neighbour entry would go stale).
	outsideMAC = "02:6e:73:00:00:01"
	// keepaliveNode is set in the node's netns, so inheritSysctls has a
	// value to copy that differs from the kernel default.
	keepaliveNode = "3600"
)

// proc is one daemon of the node, started by this test and stopped by PID.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

// node is one Kubernetes node inside private namespaces: a network
// namespace (and an "outside" one whose bridge its eth0 is a port of), and
// a holder process with its own mount namespace in which every daemon
// runs. The first node runs the control plane; a worker (startWorker) joins
// it on the same bridge and runs only containerd, kubelet and kube-proxy.
type node struct {
	id        string
	name, ip  string // the Node's name and InternalIP
	cp        *node  // the control plane's node, nil on the first node
	stopped   bool
	dir       string // /tmp/nst-k8s-<id>: everything the node writes
	netns     string // name under /run/netns
	outNetns  string
	holder    *exec.Cmd
	holderMnt string // /proc/<holder>/ns/mnt link target
	cgroup    string // cgroupRoot, "/nst-k8s-<id>"
	pki       *pki
	kubecfg   string
	procs     []*proc
	cfg       config
	logf      func(string, ...any)
}

func randomID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sh runs a command on the host and returns its combined output.
func sh(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

func newNode(cfg config, name, ip string, cp *node, logf func(string, ...any)) *node {
	id := randomID()
	n := &node{id: id, name: name, ip: ip, cp: cp, dir: "/tmp/nst-k8s-" + id, netns: "nst-k8s-" + id, cgroup: "/nst-k8s-" + id, cfg: cfg, logf: logf}
	if cp == nil {
		n.outNetns = "nst-k8so-" + id
	}
	return n
}

type step struct {
	what string
	fn   func() error
}

// startNode brings the whole node up; on error everything made so far is
// already torn down.
func startNode(cfg config, logf func(string, ...any)) (*node, error) {
	n := newNode(cfg, nodeName, nodeIP, nil, logf)
	logf("node %s: dir %s, netns %s and %s, kube-proxy %s, FORWARD %s, runtime %s", n.id, n.dir, n.netns, n.outNetns, cfg.proxyMode, cfg.forward, cfg.runtime)
	return n, n.bringUp([]step{
		{"network namespaces", n.setupNetwork},
		{"outside echo server", n.startOutsideServer},
		{"mount namespace holder", n.startHolder},
		{"cgroup root", n.makeCgroups},
		{"certificates", n.makePKI},
		{"containerd", n.startContainerd},
		{"images", n.importImages},
		{"etcd", n.startEtcd},
		{"kube-apiserver", n.startAPIServer},
		{"controller-manager and scheduler", n.startControllers},
		{"kubelet", n.startKubelet},
		{"kube-proxy", n.startKubeProxy},
	})
}

// startWorker brings up a second node, name at ip, that joins cp's control
// plane: its own netns with eth0 a port of cp's outside bridge (one L2
// segment with cp), holder, cgroup root, containerd, kubelet and
// kube-proxy. On error everything it made is already torn down.
func startWorker(cp *node, name, ip string) (*node, error) {
	n := newNode(cp.cfg, name, ip, cp, cp.logf)
	n.pki = cp.pki
	n.logf("node %s: worker %s at %s, dir %s, netns %s", n.id, name, ip, n.dir, n.netns)
	return n, n.bringUp([]step{
		{"network namespace", n.setupNetwork},
		{"mount namespace holder", n.startHolder},
		{"cgroup root", n.makeCgroups},
		{"kubeconfig", func() error {
			n.kubecfg = filepath.Join(n.dir, "kubeconfig")
			return n.pki.kubeconfig(n.kubecfg, "https://"+nodeIP+":6443")
		}},
		{"containerd", n.startContainerd},
		{"images", n.importImages},
		{"kubelet", n.startKubelet},
		{"kube-proxy", n.startKubeProxy},
	})
}

// bringUp runs steps in order; on error it dumps the logs and tears down
// what was made.
func (n *node) bringUp(steps []step) (err error) {
	defer func() {
		if err != nil {
			n.dumpLogs()
			n.stop()
		}
	}()
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return err
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		n.logf("node %s: %s up (%.1f s)", n.id, s.what, time.Since(start).Seconds())
	}
	return nil
}

// startOutsideServer runs nst-echo in the outside netns: what pods reach
// through masquerade.
func (n *node) startOutsideServer() error {
	logPath := filepath.Join(n.dir, "outside-echo.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command("nsenter", "--net=/run/netns/"+n.outNetns, n.cfg.echoBin, "-listen", outsideSrv)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	p := &proc{name: "outside-echo", cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); logFile.Close(); close(p.exited) }()
	n.procs = append(n.procs, p)
	return waitFor("outside echo server", 30*time.Second, p, func() (bool, error) {
		_, err := httpGetIn(n.outNetns, n.cfg.echoBin, "http://"+outsideSrv+"/")
		return err == nil, err
	})
}

// setupNetwork makes the node's netns with eth0 at n.ip, a port of the
// bridge in the outside netns (the first node makes both; a worker joins
// the first node's bridge).
func (n *node) setupNetwork() error {
	var cmds [][]string
	out := n.outNetns
	if n.cp == nil {
		cmds = [][]string{
			{"ip", "netns", "add", out},
			{"ip", "-n", out, "link", "set", "lo", "up"},
			{"ip", "-n", out, "link", "add", "br0", "address", outsideMAC, "type", "bridge"},
			{"ip", "-n", out, "addr", "add", outsideIP + "/24", "dev", "br0"},
			{"ip", "-n", out, "link", "set", "br0", "up"},
		}
	} else {
		out = n.cp.outNetns
	}
	cmds = append(cmds, [][]string{
		{"ip", "netns", "add", n.netns},
		{"ip", "link", "add", "nstk" + n.id, "netns", n.netns, "type", "veth", "peer", "name", "nsto" + n.id, "netns", out},
		{"ip", "-n", n.netns, "link", "set", "nstk" + n.id, "name", "eth0"},
		{"ip", "-n", out, "link", "set", "nsto" + n.id, "master", "br0", "up"},
		{"ip", "-n", n.netns, "addr", "add", n.ip + "/24", "dev", "eth0"},
		{"ip", "-n", n.netns, "link", "set", "lo", "up"},
		{"ip", "-n", n.netns, "link", "set", "eth0", "up"},
		{"ip", "-n", n.netns, "route", "add", "default", "via", outsideIP},
		{"ip", "netns", "exec", n.netns, "sysctl", "-qw", "net.ipv4.tcp_keepalive_time=" + keepaliveNode},
		{"ip", "netns", "exec", n.netns, "iptables", "-P", "FORWARD", n.cfg.forward},
	}...)
	for _, c := range cmds {
		if _, err := sh(c[0], c[1:]...); err != nil {
			return err
		}
	}
	// kube-proxy's Services through a bridge need br_netfilter in this netns.
	v, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if err != nil || strings.TrimSpace(string(v)) != "1" {
		return fmt.Errorf("net.bridge.bridge-nf-call-iptables is %q (%v): kube-proxy needs br_netfilter", v, err)
	}
	return nil
}

// holderScript runs inside the new mount namespace: the netns's own sysfs
// (so /sys/class/net shows the node's links) with the cgroup tree bound
// back, private /run, /var/log and /var/lib/cni, writable private copies of
// /etc, /opt and /var/lib (the DaemonSet writes /etc/cni/net.d and
// /opt/cni/bin; nothing reaches the machine's own files), and
// the host-global sysctls the kubelet wants (three of which it would write
// on these machines) pinned to files holding the values it wants.
const holderScript = `set -e
D=$1
mkdir -p $D/cg $D/sysctl
for m in etc opt var-lib; do mkdir -p $D/$m-upper $D/$m-work; done
mount --rbind /sys/fs/cgroup $D/cg
mount -t sysfs sysfs /sys
mount --rbind $D/cg /sys/fs/cgroup
umount -l $D/cg
mount -t overlay overlay -o lowerdir=/etc,upperdir=$D/etc-upper,workdir=$D/etc-work /etc
mount -t overlay overlay -o lowerdir=/opt,upperdir=$D/opt-upper,workdir=$D/opt-work /opt
mount -t overlay overlay -o lowerdir=/var/lib,upperdir=$D/var-lib-upper,workdir=$D/var-lib-work /var/lib
mkdir -p /etc/cni/net.d /opt/cni/bin /var/lib/cni
for m in /run /var/log /var/lib/cni; do mount -t tmpfs -o mode=755 tmpfs $m; done
mkdir -p /run/netns
for kv in kernel/panic=10 kernel/panic_on_oops=1 vm/overcommit_memory=1 vm/panic_on_oom=0 \
	kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
	f=$D/sysctl/$(echo ${kv%%=*} | tr / _); echo ${kv#*=} >$f; mount --bind $f /proc/sys/${kv%%=*}
done
echo ready
exec sleep infinity
`

func (n *node) startHolder() error {
	cmd := exec.Command("nsenter", "--net=/run/netns/"+n.netns, "unshare", "--mount", "--propagation", "slave", "sh", "-c", holderScript, "holder", n.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	n.holder = cmd
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		n.holder = nil
		return fmt.Errorf("holder did not set up its mounts: %s", stderr.String())
	}
	n.holderMnt, err = os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", cmd.Process.Pid))
	return err
}

// makeCgroups creates the kubelet's private cgroupRoot in every v1
// hierarchy (the kubelet expects it to exist).
func (n *node) makeCgroups() error {
	for _, d := range n.cgroupDirs() {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		// A new v1 cpuset starts with no CPUs and no memory nodes: give it
		// its parent's, or nothing can be attached below it.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(filepath.Dir(d), f)); err == nil {
				if err := os.WriteFile(filepath.Join(d, f), v, 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (n *node) cgroupDirs() []string {
	var dirs []string
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range entries {
		p := filepath.Join("/sys/fs/cgroup", e.Name())
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			continue // cpu and cpuacct are symlinks to cpu,cpuacct
		}
		if _, err := os.Stat(filepath.Join(p, "cgroup.procs")); err == nil {
			dirs = append(dirs, p+n.cgroup)
		}
	}
	return dirs
}

func (n *node) makePKI() error {
	p, err := newPKI(filepath.Join(n.dir, "pki"), []net.IP{net.ParseIP(nodeIP), net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")})
	if err != nil {
		return err
	}
	n.pki = p
	n.kubecfg = filepath.Join(n.dir, "kubeconfig")
	return p.kubeconfig(n.kubecfg, "https://127.0.0.1:6443")
}

// spawn starts a daemon inside the node's mount and network namespaces and
// remembers it for stop.
func (n *node) spawn(name string, env []string, args ...string) (*proc, error) {
	logPath := filepath.Join(n.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(n.holder.Process.Pid), "-m", "-n", "--"}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); logFile.Close(); close(p.exited) }()
	n.procs = append(n.procs, p)
	return p, nil
}

// inNode runs a short command inside the node's namespaces.
func (n *node) inNode(args ...string) (string, error) {
	return sh("nsenter", append([]string{"-t", strconv.Itoa(n.holder.Process.Pid), "-m", "-n", "--"}, args...)...)
}

// waitFor polls ok until it reports true, the process died, or the timeout.
func waitFor(what string, timeout time.Duration, p *proc, ok func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p != nil {
			select {
			case <-p.exited:
				return fmt.Errorf("%s: %s exited; log %s", what, p.name, p.log)
			default:
			}
		}
		done, err := ok()
		if done {
			return nil
		}
		last = err
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("%s: not done after %s (last error: %v)", what, timeout, last)
}

func (n *node) bin(name string) string { return filepath.Join(n.cfg.k8sBin, name) }

func (n *node) startEtcd() error {
	p, err := n.spawn("etcd", nil, n.bin("etcd"), "--name", "nst", "--data-dir", filepath.Join(n.dir, "etcd"),
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "nst=http://127.0.0.1:2380", "--unsafe-no-fsync", "--log-level", "warn")
	if err != nil {
		return err
	}
	return waitFor("etcd health", time.Minute, p, func() (bool, error) {
		out, err := n.inNode("curl", "-fsS", "http://127.0.0.1:2379/health")
		return err == nil && strings.Contains(out, `"health":"true"`), err
	})
}

func (n *node) startAPIServer() error {
	p := n.pki
	proc, err := n.spawn("kube-apiserver", nil, n.bin("kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:2379", "--advertise-address="+nodeIP, "--secure-port=6443",
		"--service-cluster-ip-range="+serviceCIDR, "--allow-privileged=true", "--authorization-mode=RBAC",
		"--tls-cert-file="+p.serverCert, "--tls-private-key-file="+p.serverKey, "--client-ca-file="+p.caCert,
		"--kubelet-client-certificate="+p.adminCert, "--kubelet-client-key="+p.adminKey,
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+p.saPub,
		"--service-account-signing-key-file="+p.saKey, "--enable-priority-and-fairness=false", "--profiling=false",
		"--cert-dir="+filepath.Join(n.dir, "apiserver-certs"))
	if err != nil {
		return err
	}
	return waitFor("kube-apiserver /readyz", 3*time.Minute, proc, func() (bool, error) {
		out, err := n.kubectl("get", "--raw", "/readyz")
		return err == nil && strings.TrimSpace(out) == "ok", err
	})
}

func (n *node) startControllers() error {
	if _, err := n.spawn("kube-controller-manager", nil, n.bin("kube-controller-manager"),
		"--kubeconfig="+n.kubecfg, "--leader-elect=false", "--root-ca-file="+n.pki.caCert,
		"--service-account-private-key-file="+n.pki.saKey, "--allocate-node-cidrs", "--cluster-cidr="+clusterCIDR,
		"--node-cidr-mask-size=24", "--service-cluster-ip-range="+serviceCIDR, "--profiling=false"); err != nil {
		return err
	}
	_, err := n.spawn("kube-scheduler", nil, n.bin("kube-scheduler"), "--kubeconfig="+n.kubecfg, "--leader-elect=false", "--profiling=false")
	return err
}

// containerd2Config is containerd 2.x's CRI setup (config version 3) with
// the settings FACTS-tested on these machines: no AppArmor, restricted OOM
// score adjustment, cgroupfs, pod netns under the private state dir.
var containerd2Config = template.Must(template.New("c2").Parse(`version = 3
root = "{{.Dir}}/containerd/root"
state = "{{.Dir}}/containerd/state"

[grpc]
  address = "{{.Sock}}"

[ttrpc]
  address = "{{.Sock}}.ttrpc"

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true

  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"

    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{{.Dir}}/containerd/runc"

  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/opt/cni/bin"]
    conf_dir = "/etc/cni/net.d"
    max_conf_num = 1
    conf_template = "{{.ConfTemplate}}"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"

  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{{.Pause}}"

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.nri.v1.nri"]
  disable = true
`))

// containerd16Config is Debian's containerd 1.6 (config version 2).
var containerd16Config = template.Must(template.New("c16").Parse(`version = 2
root = "{{.Dir}}/containerd/root"
state = "{{.Dir}}/containerd/state"

[grpc]
  address = "{{.Sock}}"

[ttrpc]
  address = "{{.Sock}}.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.Pause}}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{{.Dir}}/containerd/runc"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
    max_conf_num = 1
    conf_template = "{{.ConfTemplate}}"
`))

func (n *node) sock() string { return filepath.Join(n.dir, "containerd.sock") }

func (n *node) startContainerd() error {
	tmpl, bin, path := containerd2Config, filepath.Join(n.cfg.containerdBin, "containerd"), n.cfg.containerdBin+":"+os.Getenv("PATH")
	if n.cfg.runtime == runtimeContainerd16 {
		tmpl, bin, path = containerd16Config, "/usr/bin/containerd", os.Getenv("PATH")
	}
	confTemplate := ""
	if n.cfg.install == installTemplate {
		confTemplate = filepath.Join(n.dir, "10-netsteer.conflist.tmpl")
		data, err := os.ReadFile(filepath.Join(n.cfg.repo, "conf", "kubernetes", "10-netsteer.conflist.tmpl"))
		if err != nil {
			return err
		}
		if n.cfg.runtime == runtimeContainerd16 {
			data = bytes.ReplaceAll(data, []byte(`"cniVersion": "1.1.0"`), []byte(`"cniVersion": "1.0.0"`))
		}
		if err := os.WriteFile(confTemplate, data, 0o644); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, map[string]string{"Dir": n.dir, "Sock": n.sock(), "Pause": pauseImage, "ConfTemplate": confTemplate}); err != nil {
		return err
	}
	conf := filepath.Join(n.dir, "containerd.toml")
	if err := os.WriteFile(conf, buf.Bytes(), 0o644); err != nil {
		return err
	}
	p, err := n.spawn("containerd", []string{"PATH=" + path}, bin, "--config", conf)
	if err != nil {
		return err
	}
	return waitFor("containerd socket", time.Minute, p, func() (bool, error) {
		_, err := n.ctr("version")
		return err == nil, err
	})
}

func (n *node) ctr(args ...string) (string, error) {
	bin := filepath.Join(n.cfg.containerdBin, "ctr")
	if n.cfg.runtime == runtimeContainerd16 {
		bin = "/usr/bin/ctr"
	}
	return n.inNode(append([]string{bin, "--address", n.sock(), "-n", "k8s.io"}, args...)...)
}

func (n *node) importImages() error {
	for _, tar := range []string{n.cfg.pauseTar, n.cfg.echoTar, n.cfg.netsteerTar} {
		if _, err := n.ctr("images", "import", tar); err != nil {
			return err
		}
	}
	return nil
}

func (n *node) startKubelet() error {
	kdir := filepath.Join(n.dir, "kubelet")
	for _, d := range []string{kdir, filepath.Join(kdir, "manifests"), filepath.Join(kdir, "volume-plugins")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	failCgroupV1 := ""
	if n.cfg.k8sMinor >= 35 {
		failCgroupV1 = "failCgroupV1: false\n" // these machines use cgroup v1
	}
	conf := filepath.Join(n.dir, "kubelet.yaml")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: %s
cgroupsPerQOS: true
failSwapOn: false
staticPodPath: %s
volumePluginDir: %s
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {"memory.available": "1Mi", "nodefs.available": "1%%", "imagefs.available": "1%%", "nodefs.inodesFree": "1%%"}
localStorageCapacityIsolation: false
registerNode: true
syncFrequency: 10s
%s`, n.cgroup, filepath.Join(kdir, "manifests"), filepath.Join(kdir, "volume-plugins"), failCgroupV1)), 0o644)
	if err != nil {
		return err
	}
	p, err := n.spawn("kubelet", nil, n.bin("kubelet"), "--config="+conf, "--kubeconfig="+n.kubecfg,
		"--container-runtime-endpoint=unix://"+n.sock(), "--root-dir="+kdir, "--hostname-override="+n.name,
		"--node-ip="+n.ip, "--cert-dir="+filepath.Join(kdir, "pki"))
	if err != nil {
		return err
	}
	return waitFor("node registered with a pod CIDR", 2*time.Minute, p, func() (bool, error) {
		out, err := n.kubectl("get", "node", n.name, "-o", "jsonpath={.spec.podCIDR}")
		return err == nil && out != "", err
	})
}

func (n *node) startKubeProxy() error {
	p, err := n.spawn("kube-proxy", nil, n.bin("kube-proxy"), "--kubeconfig="+n.kubecfg,
		"--hostname-override="+n.name, "--proxy-mode="+n.cfg.proxyMode, "--cluster-cidr="+clusterCIDR,
		// Zeroes keep kube-proxy off the host-global conntrack sysctls.
		"--conntrack-max-per-core=0", "--conntrack-tcp-timeout-established=0s", "--conntrack-tcp-timeout-close-wait=0s",
		"--metrics-bind-address=127.0.0.1:10249", "--healthz-bind-address=127.0.0.1:10256")
	if err != nil {
		return err
	}
	return waitFor("kube-proxy healthz", time.Minute, p, func() (bool, error) {
		_, err := n.inNode("curl", "-fsS", "http://127.0.0.1:10256/healthz")
		return err == nil, err
	})
}

func (n *node) kubectl(args ...string) (string, error) {
	return n.inNode(append([]string{n.bin("kubectl"), "--kubeconfig", n.kubecfg, "--cache-dir", filepath.Join(n.dir, "kubectl-cache"), "--request-timeout=30s"}, args...)...)
}

// kubectlApply applies a manifest given as text.
func (n *node) kubectlApply(manifest string) error {
	f := filepath.Join(n.dir, fmt.Sprintf("manifest-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(f, []byte(manifest), 0o644); err != nil {
		return err
	}
	_, err := n.kubectl("apply", "-f", f)
	return err
}

// stop tears the node down: pods first (so CNI DEL runs while the runtime
// still answers), then every daemon by PID, then every process left in the
// node's mount namespace (shims, containers), the holder, the namespaces,
// the cgroups and the directory.
func (n *node) stop() {
	if n.stopped {
		return
	}
	n.stopped = true
	for i := len(n.procs) - 1; i >= 0; i-- {
		p := n.procs[i]
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	}
	// Containers have mount namespaces of their own but live in the
	// kubelet's cgroup tree under our private cgroupRoot.
	n.killCgroupProcs()
	if n.holder != nil {
		n.killMountNamespace()
		n.holder.Process.Kill()
		n.holder.Wait()
	}
	for _, ns := range []string{n.netns, n.outNetns} {
		if ns == "" {
			continue // a worker's outside is the first node's
		}
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			if _, err := sh("ip", "netns", "del", ns); err != nil {
				n.logf("removing netns %s: %v", ns, err)
			}
		}
	}
	n.removeCgroups()
	if n.dir != "" {
		// containerd's overlay snapshots may still be mounted in a dying
		// namespace; those mounts vanish with it, so retry briefly.
		for i := 0; i < 10; i++ {
			if err := os.RemoveAll(n.dir); err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}

// killMountNamespace kills every process whose mount namespace is the
// node's: only processes this node started can be in it.
func (n *node) killMountNamespace() {
	for round := 0; round < 20; round++ {
		found := false
		links, _ := filepath.Glob("/proc/[0-9]*/ns/mnt")
		for _, l := range links {
			pid, _ := strconv.Atoi(strings.Split(l, "/")[2])
			if pid == n.holder.Process.Pid {
				continue
			}
			if target, err := os.Readlink(l); err == nil && target == n.holderMnt {
				found = true
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if !found {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// killCgroupProcs kills every process in the node's cgroupRoot trees (the
// pods' containers), until none is left.
func (n *node) killCgroupProcs() {
	for round := 0; round < 20; round++ {
		found := false
		for _, root := range n.cgroupDirs() {
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
					return nil
				}
				data, _ := os.ReadFile(p)
				for _, f := range strings.Fields(string(data)) {
					if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
						found = true
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
				return nil
			})
		}
		if !found {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// removeCgroups removes the cgroupRoot trees, deepest first.
func (n *node) removeCgroups() {
	for _, root := range n.cgroupDirs() {
		var dirs []string
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			for try := 0; try < 20; try++ {
				if err := syscall.Rmdir(dirs[i]); err == nil || errors.Is(err, syscall.ENOENT) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

// dumpLogs prints the tail of every daemon's log, for a failed run.
func (n *node) dumpLogs() {
	for _, p := range n.procs {
		data, _ := os.ReadFile(p.log)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		n.logf("---- last lines of %s (%s)\n%s", p.name, p.log, strings.Join(lines, "\n"))
	}
}

// httpGet fetches url from inside netns (a name under /run/netns) with the
// echo binary acting as a client.
func httpGetIn(netns, echoBin, url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", "--net=/run/netns/"+netns, echoBin, "-get", url).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("GET %s in %s: %w: %s", url, netns, err, bytes.TrimSpace(out))
	}
	return string(out), nil
}
