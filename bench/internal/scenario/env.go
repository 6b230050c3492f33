// Package scenario runs the benchmark's measurements: control-plane
// latency of CNI ADD/DEL at growing pod counts, on a busy nat table, in
// parallel, plugin start-up, and the data path between two containers. It
// owns the namespaces, processes and files those need, in a private
// "host" namespace per plugin per scenario, and turns results into tables.
package scenario

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/netsteer/netsteer/bench/internal/cniexec"
	"github.com/netsteer/netsteer/bench/internal/netns"
)

// Side is one of the two plugins compared.
type Side struct {
	Role   string // "ours" or "upstream"
	Type   string // the "type" written in the config
	Plugin cniexec.Plugin
}

// Config sizes the benchmark; Quick and Full return the two presets.
type Config struct {
	Levels         []int // pods attached before measuring one more ADD/DEL
	NFTLevels      []int // the same, with "ipMasqBackend": "nftables" on both sides
	Reps           int   // ADD/DEL pairs per level and side
	PreloadRules   int   // unrelated nat rules for the busy-table case
	ParallelPods   int
	ParallelRounds int
	VersionExecs   int
	DataReps       int // repetitions of each data-path measurement
	RRDuration     time.Duration
	IperfDuration  time.Duration
	AttachWorkers  int  // concurrent ADDs while filling a level (not measured)
	GlobalRFS      bool // set net.core.rps_sock_flow_entries on the host for RFS runs
	SockFlowValue  int  // the value written when GlobalRFS
}

// Full is the preset of `make bench`.
func Full() Config {
	return Config{
		Levels: []int{1, 100, 500, 1000}, NFTLevels: []int{1, 500}, Reps: 15, PreloadRules: 10000,
		ParallelPods: 50, ParallelRounds: 3, VersionExecs: 50,
		DataReps: 5, RRDuration: 2 * time.Second, IperfDuration: 3 * time.Second,
		AttachWorkers: 4, GlobalRFS: true, SockFlowValue: 32768,
	}
}

// Quick is the preset of `make bench-quick`, sized for CI.
func Quick() Config {
	return Config{
		Levels: []int{1, 20}, NFTLevels: []int{1, 20}, Reps: 3, PreloadRules: 10000,
		ParallelPods: 50, ParallelRounds: 1, VersionExecs: 50,
		DataReps: 1, RRDuration: time.Second, IperfDuration: time.Second,
		AttachWorkers: 4, GlobalRFS: true, SockFlowValue: 32768,
	}
}

// Env holds what every scenario shares.
type Env struct {
	Out      io.Writer
	NS       *netns.Set
	Prefix   string // every namespace, container ID and temp dir starts with it
	TmpDir   string
	TCPRR    string // path of the tcprr binary
	Ours     Side
	Upstream Side
	Cfg      Config

	procs procSet
}

// Sides returns the two plugins in the order they are interleaved.
func (e *Env) Sides() [2]Side { return [2]Side{e.Ours, e.Upstream} }

// Progressf prints a progress line.
func (e *Env) Progressf(format string, args ...any) {
	fmt.Fprintf(e.Out, "==> "+format+"\n", args...)
}

// Network returns the benchmark network for side with extra keys (nil for
// none) and a fresh IPAM data directory named after scope.
func (e *Env) Network(side Side, scope string, extra map[string]any) (cniexec.Network, error) {
	dir := filepath.Join(e.TmpDir, "ipam-"+scope)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cniexec.Network{}, fmt.Errorf("creating IPAM data dir %s: %w", dir, err)
	}
	return NetworkFor(side, dir, extra), nil
}

// NetworkFor returns the benchmark network for side, without creating
// anything.
func NetworkFor(side Side, dataDir string, extra map[string]any) cniexec.Network {
	return cniexec.Network{
		Name: "nst-bench", CNIVersion: "1.0.0", Type: side.Type,
		Bridge: "nstbr0", Subnet: "10.88.0.0/16", DataDir: dataDir, Extra: extra,
	}
}

// NewNS creates a namespace named Prefix+suffix.
func (e *Env) NewNS(suffix string) (netns.NS, error) {
	return e.NS.Create(e.Prefix + suffix)
}

// Pod is one attachment: a container namespace and its ADD result.
type Pod struct {
	ID  string
	NS  netns.NS
	Add cniexec.Outcome
}

// IP returns the pod's first address.
func (p Pod) IP() netip.Addr {
	if len(p.Add.IPs) == 0 {
		return netip.Addr{}
	}
	return p.Add.IPs[0].Addr()
}

func podArgs(id string) string {
	// What the kubelet's runtime passes; plugins must tolerate it.
	return "IgnoreUnknown=1;K8S_POD_NAMESPACE=nst-bench;K8S_POD_NAME=" + id
}

// Attach creates a container namespace called Prefix+id and runs ADD.
func (e *Env) Attach(side Side, host netns.NS, net cniexec.Network, id string) (Pod, error) {
	ns, err := e.NewNS(id)
	if err != nil {
		return Pod{}, err
	}
	return e.AttachIn(side, host, net, id, ns)
}

// AttachIn runs ADD for container id with the given container namespace.
func (e *Env) AttachIn(side Side, host netns.NS, net cniexec.Network, id string, ns netns.NS) (Pod, error) {
	stdin, err := net.Stdin(nil)
	if err != nil {
		return Pod{}, err
	}
	out, err := side.Plugin.Exec(host, cniexec.Call{
		Command: "ADD", ContainerID: e.Prefix + id, NetNS: ns.Path, IfName: "eth0",
		Args: podArgs(id), Stdin: stdin,
	})
	return Pod{ID: id, NS: ns, Add: out}, err
}

// Detach runs DEL for p with its ADD result as prevResult, as a runtime
// does from its cache.
func (e *Env) Detach(side Side, host netns.NS, net cniexec.Network, p Pod) (cniexec.Outcome, error) {
	var prev []byte
	if len(p.Add.IPs) > 0 { // a failed ADD left no result to pass on
		prev = cniexec.PrevResult(p.Add)
	}
	stdin, err := net.Stdin(prev)
	if err != nil {
		return cniexec.Outcome{}, err
	}
	return side.Plugin.Exec(host, cniexec.Call{
		Command: "DEL", ContainerID: e.Prefix + p.ID, NetNS: p.NS.Path, IfName: "eth0",
		Args: podArgs(p.ID), Stdin: stdin,
	})
}

// Remove unpins namespaces that a scenario no longer needs, so they do
// not pile up across scenarios.
func (e *Env) Remove(nss ...netns.NS) error {
	var errs []error
	for _, ns := range nss {
		errs = append(errs, e.NS.Remove(ns))
	}
	return errors.Join(errs...)
}

// RunIn runs a short command inside ns and returns its stdout.
func (e *Env) RunIn(ns netns.NS, stdin string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr strings.Builder
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if _, err := ns.Run(cmd); err != nil {
		return stdout.String(), fmt.Errorf("%s %s in %s: %w (stderr: %s)", name, strings.Join(args, " "), ns.Name, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// StartServer starts a long-running command inside ns, pinned when cpus is
// not empty, and waits until a line of its stdout contains ready. The
// process is stopped by Stop or, at the latest, by StopAll.
func (e *Env) StartServer(ns netns.NS, cpus []int, ready string, name string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(name, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("piping stdout of %s: %w", name, err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := ns.Start(cmd, netns.StartOptions{CPUs: cpus}); err != nil {
		return nil, err
	}
	e.procs.add(cmd)
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				e.Stop(cmd)
				return nil, fmt.Errorf("starting %s in %s: exited before %q (stderr: %s)", name, ns.Name, ready, strings.TrimSpace(stderr.String()))
			}
			if strings.Contains(l, ready) {
				// Keep draining so the server never blocks on a full pipe.
				go func() {
					for range lines {
					}
				}()
				return cmd, nil
			}
		case <-timeout:
			e.Stop(cmd)
			return nil, fmt.Errorf("starting %s in %s: no %q within 10s", name, ns.Name, ready)
		}
	}
}

// Stop kills a process started by StartServer, by PID, and reaps it.
func (e *Env) Stop(cmd *exec.Cmd) {
	if e.procs.remove(cmd) {
		stop(cmd)
	}
}

// StopAll stops every process StartServer started and that is still known.
func (e *Env) StopAll() {
	for _, cmd := range e.procs.takeAll() {
		stop(cmd)
	}
}

func stop(cmd *exec.Cmd) {
	// Kill and Wait errors are expected here (the process may already
	// have exited on its own); there is nothing left to do about them.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

type procSet struct {
	mu    sync.Mutex
	procs map[*exec.Cmd]bool
}

func (s *procSet) add(cmd *exec.Cmd) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.procs == nil {
		s.procs = map[*exec.Cmd]bool{}
	}
	s.procs[cmd] = true
}

func (s *procSet) remove(cmd *exec.Cmd) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.procs[cmd]
	delete(s.procs, cmd)
	return ok
}

func (s *procSet) takeAll() []*exec.Cmd {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*exec.Cmd
	for c := range s.procs {
		all = append(all, c)
	}
	s.procs = nil
	return all
}
