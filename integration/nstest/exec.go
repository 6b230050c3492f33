package nstest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Proc is one plugin process started directly, without `ip netns exec`,
// so its PID is the plugin's own and a kill hits the plugin, not a
// wrapper. It leads its own process group, so the test can tell when the
// children it started (IPAM, iptables) have gone too.
type Proc struct {
	Cmd            *exec.Cmd
	Stdout, Stderr bytes.Buffer
}

// PluginEnv is the environment a runtime gives a plugin: the CNI_*
// variables on top of PATH and CNI_PATH=<bin dir>. env entries override.
func (n *Node) PluginEnv(env map[string]string) []string {
	base := map[string]string{"PATH": os.Getenv("PATH"), "CNI_PATH": n.Bin}
	for k, v := range env {
		base[k] = v
	}
	var out []string
	for k, v := range base {
		out = append(out, k+"="+v)
	}
	return out
}

// StartPlugin starts a plugin binary inside the node's host netns: the
// fork happens on a thread locked into that netns, so the child is born
// there. DATADIR in stdin is replaced by the node's host-local dir.
func (n *Node) StartPlugin(t testing.TB, plugin string, env map[string]string, stdin string) *Proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(n.Bin, plugin))
	cmd.Env = n.PluginEnv(env)
	cmd.Stdin = strings.NewReader(strings.ReplaceAll(stdin, "DATADIR", n.DataDir))
	return StartIn(t, func(f func() error) error { return n.Host.Do(t, f) }, cmd)
}

// StartIn starts cmd through do, which runs its argument on a thread in
// the netns the process must be born in (Netns.Do, or the VM suite's
// handle-based equivalent). The process leads its own group, and the test
// process becomes a child subreaper: the orphans of a killed plugin (its
// IPAM, iptables) are then the test's children, which WaitGroup reaps,
// instead of init's — inside the VM, init reaps nobody.
func StartIn(t testing.TB, do func(func() error) error, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd}
	cmd.Stdout, cmd.Stderr = &p.Stdout, &p.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Setting it again is a no-op.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("becoming a child subreaper: %v", err)
	}
	if err := do(cmd.Start); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	return p
}

// RunPlugin runs a plugin to completion inside the node's host netns and
// returns stdout, stderr and the exit error.
func (n *Node) RunPlugin(t testing.TB, plugin string, env map[string]string, stdin string) (stdout, stderr string, err error) {
	t.Helper()
	p := n.StartPlugin(t, plugin, env, stdin)
	err = p.Cmd.Wait()
	p.WaitGroup(t)
	return p.Stdout.String(), p.Stderr.String(), err
}

// Kill sends SIGKILL to the plugin alone (as a runtime's timeout does),
// reaps it, and reports whether it was still running when killed.
func (p *Proc) Kill(t testing.TB) (killed bool) {
	t.Helper()
	err := p.Cmd.Process.Signal(syscall.SIGKILL)
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("killing plugin %d: %v", p.Cmd.Process.Pid, err)
	}
	werr := p.Cmd.Wait()
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	return false
}

// WaitGroup waits until no process of the plugin's group is left: the
// children it started (host-local, iptables) outlive a killed plugin and
// finish on their own. StartIn made them the test's children once
// orphaned, so each poll reaps those that exited. It reports how many
// polls found one alive. Call it after Wait or Kill reaped the plugin.
// The 30 s bound only keeps a hung child from hanging the suite.
func (p *Proc) WaitGroup(t testing.TB) (polls int) {
	t.Helper()
	pgid := p.Cmd.Process.Pid
	deadline := time.Now().Add(30 * time.Second)
	for ; ; polls++ {
		reapGroup(t, pgid)
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) || !groupAlive(pgid) {
			return polls
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of group %d still running after 30 s", pgid)
		}
		time.Sleep(time.Millisecond)
	}
}

// reapGroup reaps every exited child of group pgid without blocking.
func reapGroup(t testing.TB, pgid int) {
	t.Helper()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-pgid, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD), err == nil && pid <= 0:
			return
		case err != nil:
			t.Fatalf("reaping processes of group %d: %v", pgid, err)
		}
	}
}

// groupAlive reports whether a process of group pgid is running; an
// orphan that exited stays a zombie until init reaps it and counts as gone.
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process exited while we looked
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) >= 3 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}
