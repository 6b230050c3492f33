package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/netsteer/netsteer/bench/internal/cniexec"
	"github.com/netsteer/netsteer/bench/internal/netns"
	"github.com/netsteer/netsteer/bench/internal/rules"
)

// LatencySamples are the ADD and DEL durations, in ms, of one side at one
// point, and the rules its host namespace held before the measured ADD.
type LatencySamples struct {
	Add, Del []float64
	Rules    map[string]int
}

// LatencyPoint is one row of the control-plane table: N pods attached.
type LatencyPoint struct {
	Attached int
	Sides    [2]LatencySamples // Env.Sides order: ours, upstream
}

// node is one side's host namespace with its attached pods.
type node struct {
	side Side
	host netns.NS
	net  cniexec.Network
	tag  string // names this node's namespaces and container IDs
	pods []Pod
}

func (e *Env) newNode(side Side, scenario string, extra map[string]any) (*node, error) {
	tag := scenario + "-" + side.Role
	host, err := e.NewNS(tag + "-host")
	if err != nil {
		return nil, err
	}
	net, err := e.Network(side, tag, extra)
	if err != nil {
		return nil, err
	}
	return &node{side: side, host: host, net: net, tag: tag}, nil
}

// fill attaches pods until n are attached, several ADDs at a time.
func (e *Env) fill(ctx context.Context, nd *node, n int) error {
	start := len(nd.pods)
	if n <= start {
		return nil
	}
	ids := make(chan int)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range e.Cfg.AttachWorkers {
		wg.Go(func() {
			for i := range ids {
				p, err := e.Attach(nd.side, nd.host, nd.net, fmt.Sprintf("%s-%d", nd.tag, i))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					nd.pods = append(nd.pods, p)
					if done := len(nd.pods); done%100 == 0 || done == n {
						e.Progressf("N=%d: attaching pods %d/%d (%s)", n, done, n, nd.side.Plugin.Label)
					}
				}
				mu.Unlock()
			}
		})
	}
	for i := start; i < n && ctx.Err() == nil; i++ {
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		if failed {
			break
		}
		ids <- i
	}
	close(ids)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("attaching %d pods to %s: %w", n, nd.host.Name, errors.Join(errs...))
	}
	return ctx.Err()
}

// ruleCounts returns the number of rules per table in nd's host namespace.
func (e *Env) ruleCounts(nd *node) (map[string]int, error) {
	out, err := e.RunIn(nd.host, "", "iptables-save")
	if err != nil {
		return nil, err
	}
	return rules.Count(out)
}

// addDel measures one ADD and one DEL of a new pod on nd.
func (e *Env) addDel(nd *node, id string, s *LatencySamples) error {
	ns, err := e.NewNS(id)
	if err != nil {
		return err
	}
	defer e.Remove(ns) // best effort: leftovers are caught by the leak check
	p, err := e.AttachIn(nd.side, nd.host, nd.net, id, ns)
	if err != nil {
		return err
	}
	del, err := e.Detach(nd.side, nd.host, nd.net, p)
	if err != nil {
		return err
	}
	s.Add = append(s.Add, ms(p.Add.Took))
	s.Del = append(s.Del, ms(del.Took))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measure runs Reps ADD/DEL pairs on both nodes, alternating sides.
func (e *Env) measure(ctx context.Context, nodes [2]*node, label string, attached int) (LatencyPoint, error) {
	pt := LatencyPoint{Attached: attached}
	for i, nd := range nodes {
		r, err := e.ruleCounts(nd)
		if err != nil {
			return pt, err
		}
		pt.Sides[i].Rules = r
	}
	e.Progressf("%s: measuring ADD+DEL x%d per plugin, interleaved", label, e.Cfg.Reps)
	for rep := range e.Cfg.Reps {
		for i, nd := range nodes {
			if err := ctx.Err(); err != nil {
				return pt, err
			}
			id := fmt.Sprintf("%s-x%d-%d", nd.tag, attached, rep)
			if err := e.addDel(nd, id, &pt.Sides[i]); err != nil {
				return pt, err
			}
		}
	}
	return pt, nil
}

// Scale measures ADD and DEL of one more pod with Levels[i] pods attached.
// The nodes grow from level to level; they are torn down by removing their
// namespaces, not by DEL, which would take minutes with upstream.
func (e *Env) Scale(ctx context.Context) ([]LatencyPoint, error) {
	var nodes [2]*node
	for i, side := range e.Sides() {
		nd, err := e.newNode(side, "scale", nil)
		if err != nil {
			return nil, err
		}
		nodes[i] = nd
	}
	defer e.removeNodes(nodes[:]...)
	var points []LatencyPoint
	for _, n := range e.Cfg.Levels {
		for _, nd := range nodes {
			if err := e.fill(ctx, nd, n); err != nil {
				return points, err
			}
		}
		pt, err := e.measure(ctx, nodes, fmt.Sprintf("N=%d", n), n)
		if err != nil {
			return points, err
		}
		points = append(points, pt)
	}
	return points, nil
}

// Preloaded measures ADD/DEL with one pod attached and PreloadRules
// unrelated rules in the nat table, as on a node running kube-proxy in
// iptables mode.
func (e *Env) Preloaded(ctx context.Context) (LatencyPoint, error) {
	var nodes [2]*node
	for i, side := range e.Sides() {
		nd, err := e.newNode(side, "preload", nil)
		if err != nil {
			return LatencyPoint{}, err
		}
		nodes[i] = nd
	}
	defer e.removeNodes(nodes[:]...)
	text := rules.NATPreload(e.Cfg.PreloadRules)
	for _, nd := range nodes {
		e.Progressf("busy nat table: loading %d rules into %s", e.Cfg.PreloadRules, nd.host.Name)
		if _, err := e.RunIn(nd.host, text, "iptables-restore", "-w", "--noflush"); err != nil {
			return LatencyPoint{}, err
		}
		if err := e.fill(ctx, nd, 1); err != nil {
			return LatencyPoint{}, err
		}
	}
	return e.measure(ctx, nodes, fmt.Sprintf("busy nat table (%d rules)", e.Cfg.PreloadRules), 1)
}

func (e *Env) removeNodes(nodes ...*node) {
	for _, nd := range nodes {
		if nd == nil {
			continue
		}
		nss := []netns.NS{nd.host}
		for _, p := range nd.pods {
			nss = append(nss, p.NS)
		}
		// Best effort: whatever fails to go stays in the Set and is
		// retried, then reported, by the final cleanup.
		_ = e.Remove(nss...)
	}
}
