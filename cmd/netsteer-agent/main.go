// Command netsteer-agent is the long-running container of the netsteer
// DaemonSet on clusters whose underlay does not route pod CIDRs: it keeps,
// on its node, one route per other node (that node's spec.podCIDRs via its
// InternalIP), marked with routing protocol -route-protocol, in step with
// the Node objects it watches (package podroutes). With -pod-routes=off it
// deletes the routes of ours a previous run left and then only serves its
// health endpoints, so a cluster switches the agent off without a second
// manifest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/fields"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

// options are the command line, defaults from the environment.
type options struct {
	node       string
	kubeconfig string
	listen     string
	proto      int
	podRoutes  bool
	resync     time.Duration
	debug      bool
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "netsteer-agent:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, opts, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "netsteer-agent:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	var routes string
	fs := flag.NewFlagSet("netsteer-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.node, "node", getenv("NODE_NAME"), "this node's name, as its Node object is called (env NODE_NAME)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", getenv("KUBECONFIG"), "kubeconfig file; empty means the pod's service account (env KUBECONFIG)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:9658", "address of /readyz, /healthz and /metrics; empty turns them off")
	fs.IntVar(&o.proto, "route-protocol", podroutes.Protocol, "routing protocol number marking the agent's routes (ip route show proto N)")
	fs.StringVar(&routes, "pod-routes", "on", `"on" keeps routes to peer nodes' pod CIDRs; "off" deletes ours and keeps none`)
	fs.DurationVar(&o.resync, "resync", 5*time.Minute, "reconcile at least this often, putting back routes deleted by hand")
	fs.BoolVar(&o.debug, "v", false, "log every reconcile")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch routes {
	case "on":
		o.podRoutes = true
	case "off":
	default:
		return o, fmt.Errorf(`-pod-routes %q: want "on" or "off"`, routes)
	}
	// 0-4 are the kernel's own and static routes: an agent owning those
	// would delete routes it never made.
	if o.proto < 5 || o.proto > 255 {
		return o, fmt.Errorf("-route-protocol %d: want 5 to 255", o.proto)
	}
	if o.resync <= 0 {
		return o, fmt.Errorf("-resync %s: want a positive duration", o.resync)
	}
	if o.podRoutes && o.node == "" {
		return o, errors.New("need -node (NODE_NAME)")
	}
	return o, nil
}

func run(ctx context.Context, o options, stderr io.Writer) error {
	log := newLogger(stderr, o.debug)
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("opening netlink: %w", err)
	}
	defer h.Close()
	rec := &podroutes.Reconciler{Table: podroutes.Kernel{H: h}, Node: o.node, Proto: o.proto}
	status := &podroutes.Status{}
	if o.listen != "" {
		if err := serve(ctx, o.listen, status.Handler(), log); err != nil {
			return err
		}
	}
	if !o.podRoutes {
		log.Info("pod routes off: deleting routes of ours", "proto", o.proto)
		return cleanLoop(ctx, rec, status, o.resync, log)
	}
	return keepPodRoutes(ctx, o, rec, status, log)
}

// newLogger logs text to stderr, at debug level when debug is set.
func newLogger(stderr io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// keepPodRoutes runs the agent: a route to every peer node's pod CIDRs,
// kept in step with the Node objects until ctx ends.
func keepPodRoutes(ctx context.Context, o options, rec *podroutes.Reconciler, status *podroutes.Status, log *slog.Logger) error {
	client, err := newClient(o.kubeconfig)
	if err != nil {
		return err
	}
	agent := &podroutes.Agent{
		Reconciler: rec,
		Status:     status,
		Reporter:   newEventReporter(ctx, client, o.node),
		Log:        log,
		Resync:     o.resync,
		Now:        time.Now,
	}
	log.Info("keeping pod routes to peer nodes", "node", o.node, "proto", o.proto)
	return agent.Run(ctx, cache.NewListWatchFromClient(client.RESTClient(), "nodes", "", fields.Everything()))
}

// cleanLoop keeps the table free of our routes while switched off.
func cleanLoop(ctx context.Context, rec *podroutes.Reconciler, status *podroutes.Status, every time.Duration, log *slog.Logger) error {
	for {
		err := rec.Clean()
		status.Observe(podroutes.Result{}, err, time.Now())
		if err != nil {
			log.Error("deleting routes of ours", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// newClient is a client of the core API group, all the agent reads and writes.
func newClient(kubeconfig string) (*typedcorev1.CoreV1Client, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("loading API server config: %w", err)
	}
	cfg.UserAgent = "netsteer-agent"
	client, err := typedcorev1.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("making API client: %w", err)
	}
	return client, nil
}

// serve listens on addr at once (so a taken port fails the start) and
// serves h until ctx ends.
func serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		// Best effort: the process is exiting anyway.
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving health endpoints", "err", err)
		}
	}()
	return nil
}
