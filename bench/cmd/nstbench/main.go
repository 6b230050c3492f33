// Command nstbench benchmarks our vethbridge plugin side by side with the
// upstream bridge plugin: CNI ADD/DEL latency as pods accumulate, on a busy
// nat table and in parallel bursts, start-up time, and the data path
// (TCP_RR, iperf3 with RPS/RFS settings). Everything runs in private
// network namespaces named nst-bench-*, removed at the end, also on error
// and Ctrl-C. It prints tables and writes BENCHMARKS.md and a PNG plot.
//
// Exit status is non-zero only for errors (a plugin failure, a duplicate
// IP, a leaked namespace), never because of a timing.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/netsteer/netsteer/bench/internal/cniexec"
	"github.com/netsteer/netsteer/bench/internal/machine"
	"github.com/netsteer/netsteer/bench/internal/netns"
	"github.com/netsteer/netsteer/bench/internal/scenario"
)

// scenarioNames returns the values -only accepts, in the order they run.
func scenarioNames() []string {
	return []string{"startup", "datapath", "parallel", "preload", "scale", "nftables"}
}

type options struct {
	quick        bool
	ours         string
	oursType     string
	upstream     string
	upstreamType string
	cniPath      string
	tcprr        string
	md, png      string
	repo         string
	command      string
	netnsDir     string
	globalRFS    bool
	only         string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("nstbench", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", false, "small sizes for CI (pods 1 and 20, 3 repetitions, 1 s data-path runs)")
	fs.StringVar(&o.ours, "ours", "bin/vethbridge", "our plugin binary (side A)")
	fs.StringVar(&o.oursType, "ours-type", "vethbridge", `"type" written in side A's config`)
	fs.StringVar(&o.upstream, "upstream", "bin/bridge", "upstream plugin binary (side B)")
	fs.StringVar(&o.upstreamType, "upstream-type", "bridge", `"type" written in side B's config`)
	fs.StringVar(&o.cniPath, "cni-path", "bin", "CNI_PATH given to both plugins; must hold host-local")
	fs.StringVar(&o.tcprr, "tcprr", "bin/tcprr", "the tcprr binary (go build ./bench/cmd/tcprr)")
	fs.StringVar(&o.md, "md", "BENCHMARKS.md", "Markdown report to write")
	fs.StringVar(&o.png, "png", "bench/latency.png", "latency plot to write")
	fs.StringVar(&o.repo, "repo", ".", "git work tree whose commit the report names")
	fs.StringVar(&o.command, "command", "", "how the benchmark was invoked, for the report (default: the command line)")
	fs.StringVar(&o.netnsDir, "netns-dir", "/run/netns", "where namespaces are pinned; /run/netns lets `ip netns` see them")
	fs.BoolVar(&o.globalRFS, "global-rfs", false, "set the host-wide net.core.rps_sock_flow_entries during RPS+RFS runs and restore it (off: a shared machine keeps its own value, and RFS steers nothing)")
	fs.StringVar(&o.only, "only", "", "comma-separated subset of scenarios: startup,datapath,parallel,preload,scale,nftables (default all)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.only != "" {
		for name := range strings.SplitSeq(o.only, ",") {
			if !slices.Contains(scenarioNames(), name) {
				return o, fmt.Errorf("-only: unknown scenario %q, want some of %s", name, strings.Join(scenarioNames(), ","))
			}
		}
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "nstbench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o, os.Stdout)
	interrupted := ctx.Err() != nil // read before stop, which cancels ctx
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nstbench: %v\n", err)
		if interrupted {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) (err error) {
	started := time.Now()
	loadBefore := machine.LoadAvg()
	if err := checkPrerequisites(o); err != nil {
		return err
	}
	env, err := newEnv(o, out)
	if err != nil {
		return err
	}
	rfs := &scenario.SockFlowGuard{Path: "/proc/sys/net/core/rps_sock_flow_entries", Value: env.Cfg.SockFlowValue, Enabled: o.globalRFS}
	defer func() {
		err = errors.Join(err, cleanup(env, rfs))
	}()
	fmt.Fprintf(out, "==> nstbench: %s (%s) vs %s (%s), namespaces %s*\n", env.Ours.Plugin.Label, o.ours, env.Upstream.Plugin.Label, o.upstream, env.Prefix)

	res, runErrs := runScenarios(ctx, env, rfs, o.only)
	labels := scenario.Labels{Ours: env.Ours.Plugin.Label, Upstream: env.Upstream.Plugin.Label}
	tables := scenario.Tables(res, labels, env.Cfg.PreloadRules)
	for _, t := range tables {
		fmt.Fprintf(out, "\n%s", t.Text())
	}
	for _, e := range runErrs {
		fmt.Fprintf(out, "\nERROR: %v\n", e)
	}
	if ctx.Err() != nil {
		// A partial run must not replace a complete report.
		fmt.Fprintf(out, "\n==> interrupted after %s; %s and %s left as they were\n", scenario.Elapsed(time.Since(started)), o.md, o.png)
		return errors.Join(runErrs...)
	}
	doc := documentInputs{opts: o, env: env, results: res, tables: tables, errs: runErrs,
		elapsed: time.Since(started), loadBefore: loadBefore}
	if werr := writeOutputs(doc, scenario.Chart(res, labels)); werr != nil {
		runErrs = append(runErrs, werr)
	}
	fmt.Fprintf(out, "\n==> done in %s; wrote %s and %s\n", scenario.Elapsed(time.Since(started)), o.md, o.png)
	return errors.Join(runErrs...)
}

// runScenarios runs the selected scenarios, quietest first: the data path
// before the control plane leaves thousands of namespaces for the kernel
// to tear down in the background. A failing scenario does not stop the
// others; an interrupt does.
func runScenarios(ctx context.Context, env *scenario.Env, rfs *scenario.SockFlowGuard, only string) (scenario.Results, []error) {
	var res scenario.Results
	var errs []error
	want := func(name string) bool {
		return only == "" || strings.Contains(","+only+",", ","+name+",")
	}
	step := func(name string, f func() error) {
		if !want(name) || ctx.Err() != nil {
			return
		}
		if err := f(); err != nil {
			errs = append(errs, fmt.Errorf("scenario %s: %w", name, err))
		}
	}
	step("startup", func() error {
		s, err := env.Startup(ctx)
		res.Startup = &s
		return err
	})
	step("datapath", func() error {
		dp, err := env.DataPathRun(ctx, rfs)
		res.DataPath = dp
		return err
	})
	step("parallel", func() error {
		p, err := env.Parallel(ctx)
		res.Parallel = &p
		for i, rounds := range p {
			err = errors.Join(err, parallelErrors(env.Sides()[i].Plugin.Label, rounds))
		}
		return err
	})
	step("preload", func() error {
		pt, err := env.Preloaded(ctx)
		res.Preload = &pt
		return err
	})
	step("scale", func() error {
		pts, err := env.Scale(ctx)
		res.Scale = pts
		return err
	})
	step("nftables", func() error {
		r, err := env.NFTables(ctx)
		res.NFT = &r
		return err
	})
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("interrupted: %w", ctx.Err()))
	}
	return res, errs
}

// parallelErrors condenses the failures of parallel rounds: with 50 pods
// a broken plugin would otherwise print the same error 50 times.
func parallelErrors(label string, rounds []scenario.ParallelRound) error {
	var errs []error
	for n, r := range rounds {
		if len(r.Duplicates) > 0 {
			errs = append(errs, fmt.Errorf("%s round %d handed out duplicate IPs %v", label, n+1, r.Duplicates))
		}
		if len(r.Errors) > 0 {
			errs = append(errs, fmt.Errorf("%s round %d: %d ADDs and %d DELs failed; first: %w", label, n+1, r.AddFailed, r.DelFailed, r.Errors[0]))
		}
	}
	return errors.Join(errs...)
}

func newEnv(o options, out io.Writer) (*scenario.Env, error) {
	id := make([]byte, 3)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("making run id: %w", err)
	}
	prefix := "nst-bench-" + hex.EncodeToString(id) + "-"
	set, err := netns.NewSet(o.netnsDir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, fmt.Errorf("creating temp dir: %w", err)
	}
	cniPath, err := filepath.Abs(o.cniPath)
	if err != nil {
		return nil, fmt.Errorf("resolving -cni-path: %w", err)
	}
	cfg := scenario.Full()
	if o.quick {
		cfg = scenario.Quick()
	}
	cfg.GlobalRFS = o.globalRFS
	oursLabel, upLabel := labels(o)
	return &scenario.Env{
		Out: out, NS: set, Prefix: prefix, TmpDir: tmp, TCPRR: abs(o.tcprr), Cfg: cfg,
		Ours:     scenario.Side{Role: "ours", Type: o.oursType, Plugin: cniexec.Plugin{Label: oursLabel, Path: abs(o.ours), CNIPath: cniPath}},
		Upstream: scenario.Side{Role: "upstream", Type: o.upstreamType, Plugin: cniexec.Plugin{Label: upLabel, Path: abs(o.upstream), CNIPath: cniPath}},
	}, nil
}

// labels names the sides after their binaries, marking them A and B when
// both are the same binary (developing the harness against upstream only).
func labels(o options) (string, string) {
	a, b := filepath.Base(o.ours), filepath.Base(o.upstream)
	if a == b {
		return a + "(A)", b + "(B)"
	}
	return a, b
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func checkPrerequisites(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root: it creates network namespaces and runs CNI plugins")
	}
	var errs []error
	for _, f := range []string{o.ours, o.upstream, o.tcprr, filepath.Join(o.cniPath, "host-local")} {
		if st, err := os.Stat(f); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			errs = append(errs, fmt.Errorf("need executable %s (run make build)", f))
		}
	}
	for _, tool := range []string{"iptables", "iptables-save", "iptables-restore", "iperf3", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			errs = append(errs, fmt.Errorf("need %s in PATH: %w", tool, err))
		}
	}
	return errors.Join(errs...)
}

// cleanup stops servers, restores the host sysctl, removes namespaces and
// the temp dir, then checks that no namespace of this run is left.
func cleanup(env *scenario.Env, rfs *scenario.SockFlowGuard) error {
	env.StopAll()
	var errs []error
	errs = append(errs, rfs.Restore(), env.NS.RemoveAll())
	if err := os.RemoveAll(env.TmpDir); err != nil {
		errs = append(errs, fmt.Errorf("removing %s: %w", env.TmpDir, err))
	}
	left, err := env.NS.Leftovers(env.Prefix)
	errs = append(errs, err)
	if len(left) > 0 {
		errs = append(errs, fmt.Errorf("leaked namespaces in %s: %v", env.NS.Dir, left))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleaning up: %w", err)
	}
	fmt.Fprintf(env.Out, "==> cleaned up: no %s* namespaces left, temp dir removed\n", env.Prefix)
	return nil
}
