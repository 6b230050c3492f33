//go:build e2e

package containerd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// libcniCacheDir is where containerd 1.6 (go-cni without a cache dir
// option, so libcni's default) keeps CNI results:
// results/<network>-<container id>-<ifname>. It is global to the host, so
// the tests look only at files carrying their own sandbox IDs.
const libcniCacheDir = "/var/lib/cni"

// pod is a running sandbox as the tests see it.
type pod struct {
	name  string
	id    string
	ip    netip.Addr
	netns string // path of the pod's network namespace
}

// runPod creates a sandbox the way the kubelet does and reads back its IP and
// netns path. ports become CRI port mappings (portmap's input).
func (r *criRuntime) runPod(t *testing.T, name string, ports ...*cri.PortMapping) (pod, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	logDir := filepath.Join(r.dir, "pod-logs", name)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatalf("creating %s: %v", logDir, err)
	}
	resp, err := r.cri.RunPodSandbox(ctx, &cri.RunPodSandboxRequest{Config: &cri.PodSandboxConfig{
		Metadata:     &cri.PodSandboxMetadata{Name: name, Namespace: "nst-e2e", Uid: "nst-uid-" + name},
		Hostname:     name,
		LogDirectory: logDir,
		PortMappings: ports,
		Linux: &cri.LinuxPodSandboxConfig{SecurityContext: &cri.LinuxSandboxSecurityContext{
			NamespaceOptions: &cri.NamespaceOption{Network: cri.NamespaceMode_POD, Pid: cri.NamespaceMode_POD, Ipc: cri.NamespaceMode_POD},
		}},
	}})
	if err != nil {
		return pod{}, err
	}
	p := pod{name: name, id: resp.PodSandboxId}
	st, err := r.cri.PodSandboxStatus(ctx, &cri.PodSandboxStatusRequest{PodSandboxId: p.id, Verbose: true})
	if err != nil {
		t.Fatalf("PodSandboxStatus %s: %v", name, err)
	}
	if st.GetStatus().GetState() != cri.PodSandboxState_SANDBOX_READY {
		t.Fatalf("pod %s state %v, want ready", name, st.GetStatus().GetState())
	}
	if p.ip, err = netip.ParseAddr(st.GetStatus().GetNetwork().GetIp()); err != nil {
		t.Fatalf("pod %s IP %q from PodSandboxStatus: %v", name, st.GetStatus().GetNetwork().GetIp(), err)
	}
	if p.netns, err = netnsPath(st.GetInfo()["info"]); err != nil {
		t.Fatalf("pod %s: %v", name, err)
	}
	t.Logf("pod %s: id %s ip %s netns %s", name, p.id, p.ip, p.netns)
	return p, nil
}

// mustRunPod is runPod for pods that must start.
func (r *criRuntime) mustRunPod(t *testing.T, name string, ports ...*cri.PortMapping) pod {
	t.Helper()
	p, err := r.runPod(t, name, ports...)
	if err != nil {
		t.Fatalf("RunPodSandbox %s: %v", name, err)
	}
	return p
}

// removePod is what the kubelet does when a pod goes away.
func (r *criRuntime) removePod(t *testing.T, p pod) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := r.cri.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: p.id}); err != nil {
		t.Fatalf("StopPodSandbox %s: %v", p.name, err)
	}
	if _, err := r.cri.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: p.id}); err != nil {
		t.Fatalf("RemovePodSandbox %s: %v", p.name, err)
	}
}

// netnsPath takes the pod's network namespace from the OCI spec containerd
// reports in the verbose sandbox status.
func netnsPath(info string) (string, error) {
	var v struct {
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct {
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"namespaces"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	}
	if err := json.Unmarshal([]byte(info), &v); err != nil {
		return "", fmt.Errorf("decoding verbose sandbox info: %w", err)
	}
	for _, n := range v.RuntimeSpec.Linux.Namespaces {
		if n.Type == "network" && n.Path != "" {
			return n.Path, nil
		}
	}
	return "", fmt.Errorf("no network namespace path in sandbox info %s", info)
}

// cacheFiles lists libcni result cache entries of a sandbox.
func cacheFiles(t *testing.T, id string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(libcniCacheDir, "results", "*-"+id+"-*"))
	if err != nil {
		t.Fatalf("globbing CNI cache: %v", err)
	}
	return files
}

// reservations lists host-local's reservation files that name id.
func (r *criRuntime) reservations(t *testing.T, id string) []string {
	t.Helper()
	dir := filepath.Join(r.ipamDir, networkName)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("reading reservation: %v", err)
		}
		if strings.HasPrefix(string(data), id) {
			out = append(out, e.Name())
		}
	}
	return out
}

// allReservations lists host-local's per-address files (everything but its
// lock and last-reserved bookkeeping).
func (r *criRuntime) allReservations(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(r.ipamDir, networkName))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("listing reservations: %v", err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != "lock" && !strings.HasPrefix(e.Name(), "last_reserved_ip") {
			out = append(out, e.Name())
		}
	}
	return out
}

// listenIn opens a TCP listener inside the network namespace at nsPath.
// The socket stays in that namespace; serving it needs no setns. Each
// accepted connection gets greeting and is closed.
func listenIn(t *testing.T, nsPath, addr, greeting string) net.Addr {
	t.Helper()
	var l net.Listener
	err := ns.WithNetNSPath(nsPath, func(ns.NetNS) error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listening on %s in %s: %v", addr, nsPath, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed by cleanup
			}
			io.WriteString(c, greeting) // best effort: the dialer reports what it got
			c.Close()
		}
	}()
	return l.Addr()
}

// dialTimeout only bounds a hung connect; it is not a measurement.
const dialTimeout = 10 * time.Second

// readFrom connects to addr from the network namespace at nsPath (the
// host's when empty) and returns what the server sent.
func readFrom(nsPath, addr string) (string, error) {
	var c net.Conn
	dial := func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr, dialTimeout)
		return err
	}
	var err error
	if nsPath == "" {
		err = dial()
	} else {
		err = ns.WithNetNSPath(nsPath, func(ns.NetNS) error { return dial() })
	}
	if err != nil {
		return "", fmt.Errorf("connecting to %s from %q: %w", addr, nsPath, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(dialTimeout))
	b, err := io.ReadAll(c)
	if err != nil {
		return string(b), fmt.Errorf("reading from %s: %w", addr, err)
	}
	return string(b), nil
}
