// Command netsteer-install is what the netsteer DaemonSet's init container
// runs on every node: it installs our CNI binaries into the node's CNI bin
// directory and then, last, writes the network config list rendered for the
// node's pod CIDR. Every file is replaced atomically (temp file, fsync,
// rename) and only when its content changes, so a restart rewrites nothing.
// A binary of the same name that netsteer did not install is kept as
// <name>.netsteer-backup, and stderr says so. The config goes last because
// a runtime starts using a network as soon as its conflist appears.
//
// The installer writes as root into the host's directories, so it trusts
// nothing it finds there: a destination (binary, backup, install record,
// conflist) that is a symbolic link, FIFO, device, socket or directory is
// an error naming the path and its type, never followed, read or chmodded;
// what it reads there is bounded in size. Temp files a killed earlier run
// left (.NAME.netsteer-tmp-<digits>) are removed, and said so, once every
// input has been checked.
//
// The pod CIDR comes from -pod-cidr (or NETSTEER_POD_CIDR); without it, the
// installer reads spec.podCIDRs of the Node named by -node (or NODE_NAME)
// from the API server with its service account. It is checked as strictly
// as the plugins check a pod subnet: no zero-length or IPv4-mapped prefix,
// nothing overlapping loopback or multicast, no host bits, at most one
// range per family.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/netsteer/netsteer/pkg/buildinfo"
	"github.com/netsteer/netsteer/pkg/podroutes"
)

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// options are the command line, defaults from the environment.
type options struct {
	src, dest         string
	binaries          []string
	confTemplate      string
	confDir, confName string
	podCIDR, node     string
	nodeWait          time.Duration
	noMasq            *podroutes.NoMasq // nil unless a cluster prefix is set
}

func main() {
	if buildinfo.PrintIfAsked("netsteer-install", os.Args[1:], os.Stdout) {
		return
	}
	opts, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "netsteer-install:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "netsteer-install:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	var bins string
	fs := flag.NewFlagSet("netsteer-install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.src, "src", "/netsteer/bin", "directory holding the binaries to install")
	fs.StringVar(&o.dest, "dest", "/host/opt/cni/bin", "the node's CNI bin directory")
	fs.StringVar(&bins, "binaries", "", "comma-separated binaries to install (default: every file in -src)")
	fs.StringVar(&o.confTemplate, "conf-template", "/netsteer/conf/10-netsteer.conflist.tmpl", "conflist template ({{.PodCIDR}}, {{.PodCIDRRanges}}, {{.NoMasqueradeCIDRs}})")
	fs.StringVar(&o.confDir, "conf-dir", "/host/etc/cni/net.d", "the node's CNI config directory")
	fs.StringVar(&o.confName, "conf-name", "10-netsteer.conflist", "file name of the rendered conflist")
	fs.StringVar(&o.podCIDR, "pod-cidr", getenv("NETSTEER_POD_CIDR"), "the node's pod CIDR(s), comma-separated (env NETSTEER_POD_CIDR)")
	fs.StringVar(&o.node, "node", getenv("NODE_NAME"), "node whose spec.podCIDRs to read when -pod-cidr is empty (env NODE_NAME)")
	fs.DurationVar(&o.nodeWait, "node-wait", 5*time.Minute, "how long to wait for the node to get a pod CIDR")
	var nm podroutes.NoMasq
	var extra string
	fs.IntVar(&nm.Bits4, "cluster-prefix", envInt(getenv, "NETSTEER_CLUSTER_PREFIX"), "prefix length of the IPv4 cluster CIDR node pod CIDRs are allocated from, for {{.NoMasqueradeCIDRs}} (env NETSTEER_CLUSTER_PREFIX)")
	fs.IntVar(&nm.Bits6, "cluster-prefix6", envInt(getenv, "NETSTEER_CLUSTER_PREFIX6"), "the same for IPv6 (env NETSTEER_CLUSTER_PREFIX6)")
	fs.StringVar(&extra, "no-masquerade-extra", getenv("NETSTEER_NO_MASQUERADE_EXTRA"), "comma-separated CIDRs added to {{.NoMasqueradeCIDRs}}, such as the Service CIDR (env NETSTEER_NO_MASQUERADE_EXTRA)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if bins != "" {
		o.binaries = strings.Split(bins, ",")
	}
	var err error
	if o.noMasq, err = noMasqueradeFlags(nm, extra); err != nil {
		return o, err
	}
	return o, checkOptions(o)
}

// noMasqueradeFlags checks the -cluster-prefix flags and the extra CIDRs:
// nil when no cluster prefix is set ({{.NoMasqueradeCIDRs}} unused).
func noMasqueradeFlags(nm podroutes.NoMasq, extra string) (*podroutes.NoMasq, error) {
	var err error
	if nm.Extra, err = extraCIDRs(extra); err != nil {
		return nil, err
	}
	if nm.Bits4 < 0 || nm.Bits4 > 32 || (nm.Bits4 > 0 && nm.Bits4 < 8) {
		return nil, fmt.Errorf("-cluster-prefix %d: want 8 to 32", nm.Bits4)
	}
	if nm.Bits6 < 0 || nm.Bits6 > 128 || (nm.Bits6 > 0 && nm.Bits6 < 16) {
		return nil, fmt.Errorf("-cluster-prefix6 %d: want 16 to 128", nm.Bits6)
	}
	if nm.Bits4 > 0 || nm.Bits6 > 0 {
		return &nm, nil
	}
	if len(nm.Extra) > 0 {
		return nil, errors.New("-no-masquerade-extra needs -cluster-prefix or -cluster-prefix6")
	}
	return nil, nil
}

// extraCIDRs parses -no-masquerade-extra: masked, non-default CIDRs.
func extraCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil || p.Masked() != p || p.Bits() == 0 {
			return nil, fmt.Errorf("-no-masquerade-extra %q: want masked, non-default CIDRs such as 10.96.0.0/12", e)
		}
		out = append(out, p)
	}
	return out, nil
}

// checkOptions refuses a missing pod CIDR source and a conflist name
// that is not a plain file name.
func checkOptions(o options) error {
	if o.podCIDR == "" && o.node == "" {
		return errors.New("need -pod-cidr (NETSTEER_POD_CIDR) or -node (NODE_NAME)")
	}
	if o.confName != filepath.Base(o.confName) || !strings.HasSuffix(o.confName, ".conflist") {
		return fmt.Errorf("-conf-name %q must be a plain file name ending in .conflist", o.confName)
	}
	return nil
}

// envInt reads an integer default from the environment; a value that is
// not one becomes -1, which the range checks then refuse by name.
func envInt(getenv func(string) string, key string) int {
	v := getenv(key)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	return -1
}

// run does the install: binaries first, the conflist last.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	in, err := readInputs(ctx, o)
	if err != nil {
		return err
	}
	// Only now, with every input valid, is anything on the node changed;
	// first go the temp files a killed earlier run left behind.
	for _, dir := range []string{o.dest, o.confDir} {
		if err := clearStaleTemps(dir, stderr); err != nil {
			return err
		}
	}
	done, err := installer{dest: o.dest, log: stderr}.installBinaries(in.bins)
	fmt.Fprint(stdout, summary(done))
	if err != nil {
		return err
	}
	return installConflist(filepath.Join(o.confDir, o.confName), in, stdout)
}

// inputs are what run installs, all read and checked before the node
// changes.
type inputs struct {
	cidrs    []string
	conflist []byte
	bins     []binary
}

// readInputs reads the template, the pod CIDRs and the binaries, and
// renders the conflist: a bad template or CIDR must change nothing on the
// node.
func readInputs(ctx context.Context, o options) (inputs, error) {
	var in inputs
	tmpl, err := readSource(o.confTemplate, maxConfBytes)
	if err != nil {
		return in, fmt.Errorf("reading conflist template: %w", err)
	}
	if in.cidrs, err = podCIDRs(ctx, o); err != nil {
		return in, err
	}
	if in.conflist, err = renderConflist(string(tmpl), in.cidrs, o.noMasq); err != nil {
		return in, err
	}
	in.bins, err = readBinaries(o.src, o.binaries)
	return in, err
}

// clearStaleTemps removes the temp files an interrupted earlier run left
// in dir, saying so on stderr.
func clearStaleTemps(dir string, stderr io.Writer) error {
	removed, err := removeStaleTemps(dir)
	for _, name := range removed {
		fmt.Fprintf(stderr, "netsteer-install: removed %s, left by an interrupted earlier run\n", filepath.Join(dir, name))
	}
	return err
}

// installConflist writes the conflist to path unless it already holds it,
// and says which on stdout.
func installConflist(path string, in inputs, stdout io.Writer) error {
	wrote, err := writeAtomic(path, in.conflist, 0o644)
	if err != nil {
		return fmt.Errorf("installing conflist: %w", err)
	}
	state := map[bool]string{true: "written", false: "unchanged"}[wrote]
	fmt.Fprintf(stdout, "%s: %s (pod CIDR %s)\n", path, state, strings.Join(in.cidrs, ","))
	return nil
}

func podCIDRs(ctx context.Context, o options) ([]string, error) {
	raw := o.podCIDR
	if raw == "" {
		api, err := inClusterNodeAPI(serviceAccountDir, os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("no -pod-cidr given and no API access: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, o.nodeWait)
		defer cancel()
		if raw, err = api.waitPodCIDRs(ctx, o.node, 2*time.Second); err != nil {
			return nil, err
		}
	}
	return parsePodCIDRs(raw)
}
