package podroutes

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Reporter is told about each refused pod CIDR once, when it first appears
// (and again after it was gone for a reconcile).
type Reporter interface {
	Skipped(s Skip)
}

// Agent keeps the routes of one node in step with the cluster's Node objects.
type Agent struct {
	Reconciler *Reconciler
	Status     *Status
	Reporter   Reporter
	Log        *slog.Logger
	// Resync is how often the agent reconciles without a Node event, which
	// puts back routes someone deleted by hand.
	Resync time.Duration
	Now    func() time.Time

	reported map[string]bool
}

// Run watches Nodes through nodes (cache.NewListWatchFromClient on the
// "nodes" resource, or a fake in tests) and reconciles on every change and every
// Resync, until ctx ends. The first reconcile waits for the informer's
// first complete list, so a restart never sees an empty cluster and
// deletes routes it is about to put back; stale routes of ours are removed
// then. When the API server is unreachable, the informer keeps its last
// list and so the agent keeps the last known routes. Routes stay in place
// when Run returns: an agent restart must not cut pod traffic.
func (a *Agent) Run(ctx context.Context, nodes cache.ListerWatcher) error {
	inf := cache.NewSharedIndexInformer(nodes, &corev1.Node{}, 0, cache.Indexers{})
	kick := make(chan struct{}, 1)
	signal := func() {
		select {
		case kick <- struct{}{}:
		default: // one pending reconcile covers any number of changes
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { signal() },
		UpdateFunc: func(_, _ any) { signal() },
		DeleteFunc: func(any) { signal() },
	}); err != nil {
		return fmt.Errorf("watching nodes: %w", err)
	}
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("waiting for the first list of nodes: %w", context.Cause(ctx))
	}
	return a.loop(ctx, inf.GetStore(), kick)
}

func (a *Agent) loop(ctx context.Context, store cache.Store, kick <-chan struct{}) error {
	tick := time.NewTicker(a.Resync)
	defer tick.Stop()
	for {
		a.sync(store)
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-tick.C:
		}
	}
}

// sync runs one reconcile from the informer's cache and records it.
func (a *Agent) sync(store cache.Store) {
	res, err := a.Reconciler.Reconcile(nodesFromAPI(store.List()))
	a.Status.Observe(res, err, a.Now())
	if err != nil {
		a.Log.Error("reconciling pod routes", "err", err)
	}
	a.report(res.Skips)
	a.Log.Debug("reconciled pod routes", "installed", res.Installed, "skipped", len(res.Skips))
}

// report passes skips not reported in the previous reconcile on.
func (a *Agent) report(skips []Skip) {
	now := make(map[string]bool, len(skips))
	for _, s := range skips {
		k := s.String()
		now[k] = true
		if !a.reported[k] {
			a.Log.Warn("not routing a peer's pod CIDR", "node", s.Node, "podCIDR", s.CIDR, "reason", s.Reason)
			if a.Reporter != nil {
				a.Reporter.Skipped(s)
			}
		}
	}
	a.reported = now
}

func nodesFromAPI(objs []any) []Node {
	out := make([]Node, 0, len(objs))
	for _, o := range objs {
		if n, ok := o.(*corev1.Node); ok {
			out = append(out, NodeFromAPI(n))
		}
	}
	return out
}
