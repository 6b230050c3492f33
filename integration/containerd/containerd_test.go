//go:build e2e

package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"text/template"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// criRuntime is one private containerd and a CRI client connected to it.
type criRuntime struct {
	dir     string // /tmp/nst-ctrd-*: everything the daemon writes lives here
	sock    string
	confDir string
	binDir  string
	ipamDir string
	logPath string
	cri     cri.RuntimeServiceClient
	images  cri.ImageServiceClient
}

// Guards against a hung daemon; they bound waiting, they are not assertions.
const (
	startTimeout = 60 * time.Second
	callTimeout  = 2 * time.Minute
	stopGrace    = 15 * time.Second
)

// configTemplate is the containerd 1.6 config. The settings are the ones
// FACTS.md records as working on these machines: restrict_oom_score_adj
// because runc lacks CAP_SYS_RESOURCE here, no AppArmor, cgroupfs, and the
// pod netns mounted under our own state dir. runc's state root is private
// too, so nothing lands in the host's /run/containerd.
var configTemplate = template.Must(template.New("config.toml").Parse(`version = 2
root = "{{.Dir}}/root"
state = "{{.Dir}}/state"
plugin_dir = ""

[grpc]
  address = "{{.Sock}}"

[ttrpc]
  address = "{{.Sock}}.ttrpc"

[debug]
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{{.Dir}}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.SandboxImage}}"
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
        Root = "{{.Dir}}/runc"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{{.BinDir}}"
    conf_dir = "{{.ConfDir}}"
    max_conf_num = 1
    conf_template = "{{.ConfTemplate}}"
`))

// startRuntime starts a private containerd whose CNI config comes from net,
// imports the sandbox image, and registers cleanup that removes every pod,
// stops the daemon by PID, deletes what the network left on the host and
// removes the temp dir. The daemon log is printed when the test failed.
func startRuntime(t *testing.T, net netConf) *criRuntime {
	t.Helper()
	requireSuite(t)
	dir, err := os.MkdirTemp("", "nst-ctrd-")
	if err != nil {
		t.Fatalf("creating containerd dir: %v", err)
	}
	t.Cleanup(func() { removeRuntimeDir(t, dir) })
	r := &criRuntime{
		dir:     dir,
		sock:    filepath.Join(dir, "containerd.sock"),
		confDir: filepath.Join(dir, "net.d"),
		binDir:  filepath.Join(dir, "cni-bin"),
		ipamDir: filepath.Join(dir, "ipam"),
		logPath: filepath.Join(dir, "containerd.log"),
	}
	for _, d := range []string{r.confDir, r.binDir, r.ipamDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("creating %s: %v", d, err)
		}
	}
	if err := copyCNIBinaries(env.binDir, r.binDir); err != nil {
		t.Fatalf("copying CNI binaries: %v", err)
	}
	// Registered before the daemon starts so it runs after the daemon stopped.
	t.Cleanup(snapshotHostNetwork(t).cleanup)
	confTemplate := r.writeNetworkConfig(t, net)
	r.writeDaemonConfig(t, confTemplate)
	r.start(t)
	// Registered after start, so it runs while the daemon still answers.
	t.Cleanup(func() { r.removeAllPods(t) })
	r.importSandboxImage(t)
	return r
}

// writeNetworkConfig writes net either as the conflist in conf_dir or, when
// net.templated, as the conf_template containerd renders on
// UpdateRuntimeConfig; it returns the template path ("" for none).
func (r *criRuntime) writeNetworkConfig(t *testing.T, net netConf) string {
	t.Helper()
	if net.templated {
		net.subnet = "{{.PodCIDR}}"
	}
	data, err := net.render(env.plugin, r.ipamDir)
	if err != nil {
		t.Fatalf("rendering conflist: %v", err)
	}
	path := filepath.Join(r.confDir, "10-"+networkName+".conflist")
	if net.templated {
		path = filepath.Join(r.dir, "cni-template.conflist")
	}
	// Written aside and renamed: containerd reloads conf_dir on every
	// change and must never read a half-written conflist.
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatalf("writing %s: %v", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatalf("renaming %s: %v", tmp, err)
	}
	t.Logf("network config %s:\n%s", path, data)
	if net.templated {
		return path
	}
	return ""
}

func (r *criRuntime) writeDaemonConfig(t *testing.T, confTemplate string) {
	t.Helper()
	var buf bytes.Buffer
	err := configTemplate.Execute(&buf, map[string]string{
		"Dir": r.dir, "Sock": r.sock, "SandboxImage": pauseImageName,
		"BinDir": r.binDir, "ConfDir": r.confDir, "ConfTemplate": confTemplate,
	})
	if err != nil {
		t.Fatalf("rendering containerd config: %v", err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "config.toml"), buf.Bytes(), 0o644); err != nil {
		t.Fatalf("writing containerd config: %v", err)
	}
}

// start launches containerd, registers its stop, and waits until CRI
// answers Status with the runtime ready.
func (r *criRuntime) start(t *testing.T) {
	t.Helper()
	logFile, err := os.Create(r.logPath)
	if err != nil {
		t.Fatalf("creating containerd log: %v", err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(r.dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting containerd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	t.Logf("containerd pid %d, socket %s", cmd.Process.Pid, r.sock)
	t.Cleanup(func() {
		r.stop(t, cmd.Process, exited)
		killLeftoverShims(t, r.sock)
		if t.Failed() {
			r.printLog(t)
		}
	})

	conn, err := grpc.NewClient("unix://"+r.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("creating CRI client: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	r.cri, r.images = cri.NewRuntimeServiceClient(conn), cri.NewImageServiceClient(conn)

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			exited <- err // stop() reads it again
			t.Fatalf("containerd exited during startup: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := r.cri.Status(ctx, &cri.StatusRequest{})
		cancel()
		if err == nil && condition(st.GetStatus(), cri.RuntimeReady) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd not ready after %v: status %v, last error %v", startTimeout, st.GetStatus(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends containerd by PID: SIGTERM, then SIGKILL after a grace period.
func (r *criRuntime) stop(t *testing.T, p *os.Process, exited chan error) {
	t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("sending SIGTERM to containerd %d: %v", p.Pid, err)
	}
	select {
	case <-exited:
		return
	case <-time.After(stopGrace):
	}
	t.Errorf("containerd %d ignored SIGTERM for %v, killing it", p.Pid, stopGrace)
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("killing containerd %d: %v", p.Pid, err)
	}
	<-exited
}

func (r *criRuntime) printLog(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(r.logPath)
	if err != nil {
		t.Logf("reading containerd log: %v", err)
		return
	}
	t.Logf("containerd log %s:\n%s", r.logPath, data)
}

// importSandboxImage loads the offline pause image into the k8s.io
// namespace, where the CRI plugin looks for sandbox_image.
func (r *criRuntime) importSandboxImage(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ctr", "--address", r.sock, "-n", "k8s.io", "images", "import", env.pauseImage).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr images import %s: %v\n%s", env.pauseImage, err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	st, err := r.images.ImageStatus(ctx, &cri.ImageStatusRequest{Image: &cri.ImageSpec{Image: pauseImageName}})
	if err != nil {
		t.Fatalf("CRI ImageStatus %s: %v", pauseImageName, err)
	}
	if st.GetImage() == nil {
		t.Fatalf("CRI does not see %s after import; ctr said:\n%s", pauseImageName, out)
	}
}

// waitNetworkReady polls CRI Status until containerd has loaded a CNI config.
func (r *criRuntime) waitNetworkReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := r.cri.Status(ctx, &cri.StatusRequest{})
		cancel()
		if err == nil && condition(st.GetStatus(), cri.NetworkReady) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("network not ready after %v: status %v, last error %v", startTimeout, st.GetStatus(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func condition(st *cri.RuntimeStatus, name string) bool {
	for _, c := range st.GetConditions() {
		if c.Type == name {
			return c.Status
		}
	}
	return false
}

// copyCNIBinaries copies every regular file of src into dst (containerd 1.6
// takes a single bin_dir, so it must hold loopback, IPAM and chained plugins
// too). The upstream bridge is also installed under its own type name.
func copyCNIBinaries(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("listing %s: %w", src, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		if name == "upstream-bridge" {
			name = "bridge"
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, name)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return fmt.Errorf("creating %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}
