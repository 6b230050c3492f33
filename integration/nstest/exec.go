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
	p := &Proc{Cmd: exec.Command(filepath.Join(n.Bin, plugin))}
	p.Cmd.Env = n.PluginEnv(env)
	p.Cmd.Stdin = strings.NewReader(strings.ReplaceAll(stdin, "DATADIR", n.DataDir))
	p.Cmd.Stdout, p.Cmd.Stderr = &p.Stdout, &p.Stderr
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.Host.Do(t, p.Cmd.Start); err != nil {
		t.Fatalf("starting %s: %v", plugin, err)
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
// finish on their own. It reports how many polls found one alive. The
// 30 s bound only keeps a hung child from hanging the suite.
func (p *Proc) WaitGroup(t testing.TB) (polls int) {
	t.Helper()
	pgid := p.Cmd.Process.Pid
	deadline := time.Now().Add(30 * time.Second)
	for ; ; polls++ {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) || !groupAlive(pgid) {
			return polls
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of group %d still running after 30 s", pgid)
		}
		time.Sleep(time.Millisecond)
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
