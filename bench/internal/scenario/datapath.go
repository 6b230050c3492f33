package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/netsteer/netsteer/bench/internal/counters"
	"github.com/netsteer/netsteer/bench/internal/iperf"
	"github.com/netsteer/netsteer/bench/internal/netns"
	"github.com/netsteer/netsteer/bench/internal/rr"
	"github.com/netsteer/netsteer/bench/internal/rules"
)

// steering is one way of wiring two containers: a plugin and its config.
type steering struct {
	name  string
	side  Side
	extra map[string]any
	rfs   bool // needs the host-wide rps_sock_flow_entries during runs
	want  steeringWant
	// realistic loads a kube-proxy-sized filter and nat ruleset into the
	// host before the containers are wired.
	realistic bool
}

func (e *Env) steerings() []steering {
	return []steering{
		{name: "upstream " + e.Upstream.Plugin.Label, side: e.Upstream},
		{name: "ours, RPS off", side: e.Ours, extra: rpsConf(map[string]any{"cpus": "0"})},
		{name: "ours, RPS", side: e.Ours, extra: rpsConf(map[string]any{"cpus": "all"}), want: steeringWant{rps: true}},
		{name: "ours, RPS+RFS", side: e.Ours, extra: rpsConf(map[string]any{"cpus": "all", "flowCount": 4096}), rfs: true,
			want: steeringWant{rps: true, flowCount: 4096}},
		// A realistic node: the FORWARD hook carries kube-proxy's rules,
		// so the cost of our forward accept is compared where it occurs.
		{name: realisticName("iptables", "upstream "+e.Upstream.Plugin.Label), side: e.Upstream, realistic: true,
			extra: map[string]any{"ipMasqBackend": "iptables"}},
		{name: realisticName("iptables", "ours, RPS off"), side: e.Ours, realistic: true,
			extra: map[string]any{"ipMasqBackend": "iptables", "rps": map[string]any{"cpus": "0"}}},
		{name: realisticName("nftables", "upstream "+e.Upstream.Plugin.Label), side: e.Upstream, realistic: true,
			extra: map[string]any{"ipMasqBackend": "nftables"}},
		{name: realisticName("nftables", "ours, RPS off"), side: e.Ours, realistic: true,
			extra: map[string]any{"ipMasqBackend": "nftables", "rps": map[string]any{"cpus": "0"}}},
	}
}

// realisticName names a realistic-node steering; RealisticGroup reads the
// group back, so tables compare each with the upstream of its own group.
func realisticName(backend, who string) string { return "realistic node, " + backend + ": " + who }

// RealisticGroup is "realistic node, <backend>: " for a realistic-node
// path or steering name, else "".
func RealisticGroup(name string) string {
	i := strings.Index(name, "realistic node, ")
	if i < 0 {
		return ""
	}
	rest := name[i:]
	if j := strings.Index(rest, ": "); j >= 0 {
		return rest[:j+2]
	}
	return ""
}

func rpsConf(rps map[string]any) map[string]any { return map[string]any{"rps": rps} }

// pair is two containers on one steering's bridge.
type pair struct {
	steering
	nd     *node
	c1, c2 Pod // c1 is the client/sender, c2 the server/receiver
}

// Pinning places the TCP_RR client and server on CPUs.
type Pinning struct {
	Name           string
	Client, Server []int
}

func pinnings() []Pinning {
	last := runtime.NumCPU() - 1
	p := []Pinning{{Name: fmt.Sprintf("same CPU (%d)", last), Client: []int{last}, Server: []int{last}}}
	if last > 0 {
		p = append(p, Pinning{Name: fmt.Sprintf("across CPUs (%d->%d)", 0, last), Client: []int{0}, Server: []int{last}})
	}
	return p
}

// RRSeries is the TCP_RR rate of one path under one pinning, one sample
// per repetition.
type RRSeries struct {
	Path, Pinning string
	TPS           []float64
}

// IperfSeries is iperf3 over one steering with a number of streams.
type IperfSeries struct {
	Steering string
	Streams  int
	Gbps     []float64
	Retrans  []float64 // sender's retransmits as iperf3 counts them
	Reorder  []float64 // TcpExt.TCPSACKReorder delta in the sender's netns
	Reneging []float64 // TcpExt.TCPSACKReneging delta in the sender's netns
}

// DataPath is everything the data-path scenario measured.
type DataPath struct {
	RR      []*RRSeries
	Iperf   []*IperfSeries
	Applied []string // what the kernel shows on each host veth, per steering
	Notes   []string
}

// DataPathRun measures TCP_RR and iperf3 between two containers per
// steering, interleaving all measurements within each repetition.
func (e *Env) DataPathRun(ctx context.Context, rfs *SockFlowGuard) (*DataPath, error) {
	dp := &DataPath{}
	var pairs []*pair
	defer func() {
		for _, p := range pairs {
			e.removeNodes(p.nd)
		}
	}()
	for i, st := range e.steerings() {
		e.Progressf("data path: wiring two containers for %q", st.name)
		p, err := e.newPair(ctx, st, fmt.Sprintf("dp%d", i))
		if err != nil {
			return dp, err
		}
		pairs = append(pairs, p)
		states, err := e.appliedSteering(p.nd.host)
		if err != nil {
			return dp, err
		}
		dp.Applied = append(dp.Applied, fmt.Sprintf("%s: %s", st.name, FormatQueueStates(states)))
		if err := st.want.check(states); err != nil {
			w := fmt.Sprintf("WARNING: %s: the host veths do not show the requested steering: %s",
				st.name, strings.ReplaceAll(err.Error(), "\n", "; "))
			e.Progressf("%s", w)
			dp.Notes = append(dp.Notes, w)
		}
	}
	lo, err := e.NewNS("dp-loopback")
	if err != nil {
		return dp, err
	}
	defer e.Remove(lo) // best effort: leftovers are caught by the leak check

	if err := e.tcpRR(ctx, dp, pairs, lo, rfs); err != nil {
		return dp, err
	}
	if err := e.iperfAll(ctx, dp, pairs, rfs); err != nil {
		return dp, err
	}
	dp.Notes = append(dp.Notes, rfs.Note())
	return dp, nil
}

func (e *Env) newPair(ctx context.Context, st steering, scenario string) (*pair, error) {
	nd, err := e.newNode(st.side, scenario, st.extra)
	if err != nil {
		return nil, err
	}
	p := &pair{steering: st, nd: nd}
	if st.realistic {
		e.Progressf("data path: loading a kube-proxy-sized ruleset (%d nat, %d filter service rules) for %q",
			e.Cfg.PreloadRules, e.Cfg.PreloadRules/10, st.name)
		text := rules.NATPreload(e.Cfg.PreloadRules) + rules.FilterPreload(e.Cfg.PreloadRules/10)
		if _, err := e.RunIn(nd.host, text, "iptables-restore", "-w", "--noflush"); err != nil {
			return p, err
		}
	}
	if err := e.fill(ctx, nd, 2); err != nil {
		return p, err
	}
	p.c1, p.c2 = nd.pods[0], nd.pods[1]
	return p, nil
}

// appliedSteering returns the rx-0 queue settings of every port of the
// bridge, read through `ip netns exec`, which mounts a sysfs of that
// namespace (our own /sys shows the initial namespace's devices).
func (e *Env) appliedSteering(host netns.NS) ([]QueueState, error) {
	// brif lists the bridge's ports from sysfs alone; `ip link` would also
	// resolve the peers' namespaces and can fail while other namespaces
	// are being torn down.
	const script = `for d in $(ls /sys/class/net/nstbr0/brif); do
  echo "$d $(cat /sys/class/net/$d/queues/rx-0/rps_cpus) $(cat /sys/class/net/$d/queues/rx-0/rps_flow_cnt)"
done`
	cmd := exec.Command("ip", "netns", "exec", host.Name, "sh", "-c", script)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reading rps settings of the ports of nstbr0 in %s: %w (%s)", host.Name, err, strings.TrimSpace(stderr.String()))
	}
	return ParseQueueStates(string(out))
}

func (e *Env) tcpRR(ctx context.Context, dp *DataPath, pairs []*pair, lo netns.NS, rfs *SockFlowGuard) error {
	type path struct {
		name           string
		client, server netns.NS
		ip             netip.Addr
		rfs            bool
	}
	paths := []path{{name: "container loopback", client: lo, server: lo, ip: netip.MustParseAddr("127.0.0.1")}}
	for _, p := range pairs {
		paths = append(paths, path{name: "container->container, " + p.name, client: p.c1.NS, server: p.c2.NS, ip: p.c2.IP(), rfs: p.rfs})
	}
	series := map[string]*RRSeries{}
	for _, pa := range paths {
		for _, pin := range pinnings() {
			s := &RRSeries{Path: pa.name, Pinning: pin.Name}
			series[pa.name+"|"+pin.Name] = s
			dp.RR = append(dp.RR, s)
		}
	}
	for rep := range e.Cfg.DataReps {
		e.Progressf("data path: TCP_RR %s per run, repetition %d/%d", e.Cfg.RRDuration, rep+1, e.Cfg.DataReps)
		for _, pa := range paths {
			for _, pin := range pinnings() {
				if err := ctx.Err(); err != nil {
					return err
				}
				tps, err := withRFS(rfs, pa.rfs, func() (float64, error) {
					return e.rrOnce(pa.client, pa.server, pa.ip, pin)
				})
				if err != nil {
					return fmt.Errorf("TCP_RR %s, %s: %w", pa.name, pin.Name, err)
				}
				s := series[pa.name+"|"+pin.Name]
				s.TPS = append(s.TPS, tps)
			}
		}
	}
	return nil
}

// withRFS runs f with the host-wide RFS table enabled when on is set.
func withRFS[T any](g *SockFlowGuard, on bool, f func() (T, error)) (T, error) {
	if !on {
		return f()
	}
	if err := g.Raise(); err != nil {
		var zero T
		return zero, err
	}
	v, err := f()
	return v, errors.Join(err, g.Restore())
}

func (e *Env) rrOnce(client, server netns.NS, ip netip.Addr, pin Pinning) (float64, error) {
	addr := netip.AddrPortFrom(ip, 7000).String()
	srv, err := e.StartServer(server, pin.Server, "ready", e.TCPRR, "server", "-listen", addr)
	if err != nil {
		return 0, err
	}
	defer e.Stop(srv)
	cmd := exec.Command(e.TCPRR, "client", "-connect", addr, "-duration", e.Cfg.RRDuration.String())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := client.Start(cmd, netns.StartOptions{CPUs: pin.Client}); err != nil {
		return 0, err
	}
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("tcprr client in %s: %w (stderr: %s)", client.Name, err, strings.TrimSpace(stderr.String()))
	}
	var res rr.Result
	if err := json.Unmarshal([]byte(stdout.String()), &res); err != nil {
		return 0, fmt.Errorf("decoding tcprr result %q: %w", stdout.String(), err)
	}
	return res.PerSecond, nil
}

func (e *Env) iperfAll(ctx context.Context, dp *DataPath, pairs []*pair, rfs *SockFlowGuard) error {
	for _, p := range pairs {
		srv, err := e.StartServer(p.c2.NS, nil, "Server listening", "iperf3", "-s", "-p", "5201", "--forceflush")
		if err != nil {
			return err
		}
		defer e.Stop(srv)
	}
	streams := []int{1, 4}
	series := map[string]*IperfSeries{}
	for _, p := range pairs {
		for _, n := range streams {
			s := &IperfSeries{Steering: p.name, Streams: n}
			series[fmt.Sprint(p.name, n)] = s
			dp.Iperf = append(dp.Iperf, s)
		}
	}
	secs := max(1, int(e.Cfg.IperfDuration/time.Second))
	for rep := range e.Cfg.DataReps {
		e.Progressf("data path: iperf3 %ds per run, repetition %d/%d", secs, rep+1, e.Cfg.DataReps)
		for _, n := range streams {
			for _, p := range pairs {
				if err := ctx.Err(); err != nil {
					return err
				}
				s := series[fmt.Sprint(p.name, n)]
				_, err := withRFS(rfs, p.rfs, func() (struct{}, error) {
					return struct{}{}, e.iperfOnce(p, n, secs, s)
				})
				if err != nil {
					return fmt.Errorf("iperf3 %s, %d streams: %w", p.name, n, err)
				}
			}
		}
	}
	return nil
}

func (e *Env) iperfOnce(p *pair, streams, secs int, s *IperfSeries) error {
	before, err := snapshot(p.c1.NS)
	if err != nil {
		return err
	}
	out, err := e.RunIn(p.c1.NS, "", "iperf3", "-c", p.c2.IP().String(), "-p", "5201",
		"-t", strconv.Itoa(secs), "-P", strconv.Itoa(streams), "-J")
	if err != nil {
		return err
	}
	after, err := snapshot(p.c1.NS)
	if err != nil {
		return err
	}
	res, err := iperf.Parse([]byte(out))
	if err != nil {
		return err
	}
	reorder, err := counters.Delta(before, after, "TcpExt.TCPSACKReorder")
	if err != nil {
		return err
	}
	reneging, err := counters.Delta(before, after, "TcpExt.TCPSACKReneging")
	if err != nil {
		return err
	}
	s.Gbps = append(s.Gbps, res.ReceivedBitsPerSecond/1e9)
	s.Retrans = append(s.Retrans, float64(res.Retransmits))
	s.Reorder = append(s.Reorder, float64(reorder))
	s.Reneging = append(s.Reneging, float64(reneging))
	return nil
}

// snapshot reads the TCP counters of ns, like `ip netns exec ns nstat -az`.
// /proc/thread-self/net, not /proc/net, because /proc/net follows the
// namespace of the process's main thread.
func snapshot(ns netns.NS) (counters.Snapshot, error) {
	var s counters.Snapshot
	err := ns.Do(func() error {
		var text strings.Builder
		for _, f := range []string{"/proc/thread-self/net/netstat", "/proc/thread-self/net/snmp"} {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("reading %s in %s: %w", f, ns.Name, err)
			}
			text.Write(b)
		}
		var err error
		s, err = counters.Parse(text.String())
		return err
	})
	return s, err
}
