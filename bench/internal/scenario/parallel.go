package scenario

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/netsteer/netsteer/bench/internal/cniexec"
	"github.com/netsteer/netsteer/bench/internal/netns"
)

// ParallelRound is one burst of concurrent ADDs then DELs on a fresh node.
type ParallelRound struct {
	AddWall, DelWall     time.Duration
	AddFailed, DelFailed int
	Duplicates           []netip.Addr
	Errors               []error
}

// Parallel runs ParallelRounds bursts per side, alternating sides.
func (e *Env) Parallel(ctx context.Context) ([2][]ParallelRound, error) {
	var res [2][]ParallelRound
	for round := range e.Cfg.ParallelRounds {
		for i, side := range e.Sides() {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			e.Progressf("parallel: %d ADDs then %d DELs, round %d/%d (%s)", e.Cfg.ParallelPods, e.Cfg.ParallelPods, round+1, e.Cfg.ParallelRounds, side.Plugin.Label)
			r, err := e.parallelRound(side, fmt.Sprintf("par%d", round))
			if err != nil {
				return res, err
			}
			res[i] = append(res[i], r)
		}
	}
	return res, nil
}

func (e *Env) parallelRound(side Side, scenario string) (ParallelRound, error) {
	nd, err := e.newNode(side, scenario, nil)
	if err != nil {
		return ParallelRound{}, err
	}
	defer e.removeNodes(nd)
	nss := make([]netns.NS, e.Cfg.ParallelPods)
	for i := range nss {
		if nss[i], err = e.NewNS(fmt.Sprintf("%s-%d", nd.tag, i)); err != nil {
			return ParallelRound{}, err
		}
		nd.pods = append(nd.pods, Pod{NS: nss[i]}) // so removeNodes finds it
	}

	var r ParallelRound
	pods := make([]Pod, len(nss))
	addErrs := make([]error, len(nss))
	r.AddWall = together(len(nss), func(i int) {
		pods[i], addErrs[i] = e.AttachIn(side, nd.host, nd.net, fmt.Sprintf("%s-%d", nd.tag, i), nss[i])
	})
	var ips [][]netip.Prefix
	for i, err := range addErrs {
		if err != nil {
			r.AddFailed++
			r.Errors = append(r.Errors, err)
			continue
		}
		ips = append(ips, pods[i].Add.IPs)
	}
	r.Duplicates = cniexec.Duplicates(ips)

	delErrs := make([]error, len(nss))
	r.DelWall = together(len(nss), func(i int) {
		// DEL also for failed ADDs, as a runtime does.
		_, delErrs[i] = e.Detach(side, nd.host, nd.net, pods[i])
	})
	for _, err := range delErrs {
		if err != nil {
			r.DelFailed++
			r.Errors = append(r.Errors, err)
		}
	}
	return r, nil
}

// together runs f(0..n-1) concurrently, released at once, and returns the
// wall time until the last one finished.
func together(n int, f func(i int)) time.Duration {
	var ready, done sync.WaitGroup
	startGate := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-startGate
			f(i)
		})
	}
	ready.Wait()
	start := time.Now()
	close(startGate)
	done.Wait()
	return time.Since(start)
}
