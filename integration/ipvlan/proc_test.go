//go:build vm

package ipvlan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"golang.org/x/sys/unix"
)

// The reliability tests run bin/ipvlan directly, not through libcni, when
// they need the plugin's PID (to kill it) or an environment libcni would
// not send (no prevResult, an old one, a CNI_PATH without IPAM).

// invocation is the CNI environment of one direct run; CNI_IFNAME is eth0.
type invocation struct {
	command, id, netns string
	// cniPath replaces CNI_PATH (the node's bin dir) when set.
	cniPath string
}

func (n *node) environ(inv invocation) []string {
	cniPath := inv.cniPath
	if cniPath == "" {
		cniPath = n.bin
	}
	return []string{
		"PATH=" + os.Getenv("PATH"), "CNI_PATH=" + cniPath,
		"CNI_COMMAND=" + inv.command, "CNI_CONTAINERID=" + inv.id,
		"CNI_NETNS=" + inv.netns, "CNI_IFNAME=eth0",
	}
}

// pluginConf is the list's only plugin config as a runtime hands it to the
// plugin: with the network's name and cniVersion, plus extra keys
// (prevResult).
func pluginConf(t testing.TB, list *libcni.NetworkConfigList, extra map[string]any) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(list.Plugins[0].Bytes, &p); err != nil {
		t.Fatalf("decoding the plugin config of %s: %v", list.Name, err)
	}
	p["name"], p["cniVersion"] = list.Name, list.CNIVersion
	for k, v := range extra {
		p[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pluginRun is bin/ipvlan started directly, without `ip netns exec`, so
// its PID is the plugin's and a kill hits the plugin, not a wrapper. It
// leads its own process group, so the test can tell when the children it
// started (host-local) are gone too.
type pluginRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// start forks bin/ipvlan on a thread locked into the node netns, so the
// plugin is born there, as on a real node.
func (n *node) start(t testing.TB, inv invocation, conf []byte) *pluginRun {
	t.Helper()
	p := &pluginRun{cmd: exec.Command(filepath.Join(n.bin, "ipvlan"))}
	p.cmd.Env = n.environ(inv)
	p.cmd.Stdin = bytes.NewReader(conf)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// As a child subreaper, the test process adopts the orphans of a
	// killed plugin instead of init (the guest's init reaps nobody), and
	// waitGroup reaps them by group. Setting it again is a no-op.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("becoming a subreaper: %v", err)
	}
	if err := n.ns.do(p.cmd.Start); err != nil {
		t.Fatalf("starting ipvlan %s: %v", inv.command, err)
	}
	return p
}

// run runs the plugin to completion, children included, and returns its
// stdout, stderr and exit error.
func (n *node) run(t testing.TB, inv invocation, conf []byte) (stdout, stderr string, err error) {
	t.Helper()
	p := n.start(t, inv, conf)
	err = p.cmd.Wait()
	p.waitGroup(t)
	return p.stdout.String(), p.stderr.String(), err
}

// mustRun is run that fails the test unless the plugin exits 0.
func (n *node) mustRun(t testing.TB, inv invocation, conf []byte) string {
	t.Helper()
	stdout, stderr, err := n.run(t, inv, conf)
	if err != nil {
		t.Fatalf("ipvlan %s %s: %v\nstdout: %s\nstderr: %s", inv.command, inv.id, err, stdout, stderr)
	}
	return stdout
}

// kill sends SIGKILL to the plugin alone, as a runtime's timeout does
// (exec.CommandContext), reaps it, and reports whether it was still
// running when the signal came.
func (p *pluginRun) kill(t testing.TB) (killed bool) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("killing ipvlan %d: %v", p.cmd.Process.Pid, err)
	}
	var ee *exec.ExitError
	if errors.As(p.cmd.Wait(), &ee) {
		ws, ok := ee.Sys().(syscall.WaitStatus)
		return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
	}
	return false
}

// waitGroup waits until no process of the plugin's group is left: the
// host-local of a killed plugin outlives it and finishes on its own (a
// runtime's DEL comes long after). start made the test process the
// subreaper of its descendants, so that orphan is the test's child and is
// reaped here by group. It reports whether one was still running. The
// 30 s bound only keeps a hung child from hanging the VM.
func (p *pluginRun) waitGroup(t testing.TB) (outlived bool) {
	t.Helper()
	pgid := p.cmd.Process.Pid
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-pgid, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.ECHILD):
			return outlived
		case errors.Is(err, unix.EINTR), err == nil && pid > 0:
			continue
		case err != nil:
			t.Fatalf("waiting for processes of group %d: %v", pgid, err)
		}
		outlived = true
		if time.Now().After(deadline) {
			t.Fatalf("processes of group %d still running after 30 s", pgid)
		}
		time.Sleep(time.Millisecond)
	}
}

// cniError is the error JSON the plugin prints on stdout.
type cniError struct {
	Code    uint   `json:"code"`
	Msg     string `json:"msg"`
	Details string `json:"details"`
}

// parseError decodes the plugin's stdout as a CNI error.
func parseError(t testing.TB, stdout string) cniError {
	t.Helper()
	var e cniError
	if err := json.Unmarshal([]byte(stdout), &e); err != nil || e.Code == 0 {
		t.Fatalf("stdout is not CNI error JSON: %q", stdout)
	}
	return e
}
