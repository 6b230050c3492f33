package scenario

import (
	"context"
	"fmt"
	"strconv"

	"github.com/netsteer/netsteer/bench/internal/cniexec"
	"github.com/netsteer/netsteer/bench/internal/report"
	"github.com/netsteer/netsteer/bench/internal/stats"
)

// NFTResults are the nftables side: ADD/DEL with "ipMasqBackend":
// "nftables" on both sides as pods accumulate, and our STATUS (which
// containerd runs every few seconds) next to our VERSION, the floor of
// any CNI call.
type NFTResults struct {
	Points          []LatencyPoint
	Status, Version []float64
}

// NFTables runs the nftables side on fresh nodes.
func (e *Env) NFTables(ctx context.Context) (NFTResults, error) {
	var r NFTResults
	extra := map[string]any{"ipMasqBackend": "nftables"}
	var nodes [2]*node
	for i, side := range e.Sides() {
		nd, err := e.newNode(side, "nft", extra)
		if err != nil {
			return r, err
		}
		nodes[i] = nd
	}
	defer e.removeNodes(nodes[:]...)
	for _, n := range e.Cfg.NFTLevels {
		for _, nd := range nodes {
			if err := e.fill(ctx, nd, n); err != nil {
				return r, err
			}
		}
		pt, err := e.measure(ctx, nodes, fmt.Sprintf("nftables N=%d", n), n)
		if err != nil {
			return r, err
		}
		r.Points = append(r.Points, pt)
	}
	return r, e.statusVsVersion(ctx, nodes[0], &r)
}

// statusVsVersion execs our STATUS and VERSION alternately on a node
// whose network is in place.
func (e *Env) statusVsVersion(ctx context.Context, nd *node, r *NFTResults) error {
	e.Progressf("nftables: %d x STATUS and VERSION, interleaved", e.Cfg.VersionExecs)
	net := nd.net
	net.CNIVersion = "1.1.0" // STATUS exists since 1.1.0
	stdin, err := net.Stdin(nil)
	if err != nil {
		return err
	}
	for range e.Cfg.VersionExecs {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, err := nd.side.Plugin.Exec(nd.host, cniexec.Call{Command: "STATUS", Stdin: stdin})
		if err != nil {
			return fmt.Errorf("STATUS: %w", err)
		}
		v, err := nd.side.Plugin.Exec(nd.host, cniexec.Call{Command: "VERSION", Stdin: stdin})
		if err != nil {
			return fmt.Errorf("VERSION: %w", err)
		}
		r.Status, r.Version = append(r.Status, ms(st.Took)), append(r.Version, ms(v.Took))
	}
	return nil
}

func nftTables(l Labels, r *NFTResults) []report.Table {
	t := report.Table{
		Title: `CNI ADD and DEL latency (ms) with "ipMasqBackend": "nftables" on both sides, one more pod`,
		Header: []string{"pods attached", "verb", l.Ours + " median", l.Upstream + " median",
			"ratio of medians", "samples"},
		Notes: []string{fmt.Sprintf("ratio = %s / %s; below 1 means ours is faster.", l.Ours, l.Upstream)},
	}
	for _, pt := range r.Points {
		for _, v := range []struct {
			verb string
			pick func(LatencySamples) []float64
		}{{"ADD", func(s LatencySamples) []float64 { return s.Add }}, {"DEL", func(s LatencySamples) []float64 { return s.Del }}} {
			a, b := stats.Summarize(v.pick(pt.Sides[0])), stats.Summarize(v.pick(pt.Sides[1]))
			t.AddRow(strconv.Itoa(pt.Attached), v.verb, report.Num(a.Median, 1), report.Num(b.Median, 1),
				report.Ratio(stats.Ratio(a.Median, b.Median)), fmt.Sprintf("%d+%d", a.N, b.N))
		}
	}
	out := []report.Table{t}
	if len(r.Status) > 0 {
		s := report.Table{
			Title:  l.Ours + " STATUS vs VERSION, nftables backend, fork to exit (ms)",
			Header: []string{"command", "median", "p90", "samples"},
		}
		a, b := stats.Summarize(r.Status), stats.Summarize(r.Version)
		s.AddRow("STATUS", report.Num(a.Median, 2), report.Num(a.P90, 2), strconv.Itoa(a.N))
		s.AddRow("VERSION", report.Num(b.Median, 2), report.Num(b.P90, 2), strconv.Itoa(b.N))
		s.Notes = []string{"ratio of medians STATUS / VERSION: " + report.Ratio(stats.Ratio(a.Median, b.Median)) +
			" (the first STATUS execs host-local's STATUS; the next ones reuse its success for 30 s)"}
		out = append(out, s)
	}
	return out
}

// backendTable compares each side's nftables backend with its iptables
// backend at the pod counts both scenarios measured: ADD and DEL medians
// of the same run. ok is false when no count is in both.
func backendTable(l Labels, scale, nft []LatencyPoint) (report.Table, bool) {
	t := report.Table{
		Title: "CNI ADD and DEL latency (ms), nftables backend vs iptables backend of the same plugin",
		Header: []string{"pods attached", "verb", l.Ours + " nftables", l.Ours + " iptables", l.Ours + " ratio",
			l.Upstream + " nftables", l.Upstream + " iptables", l.Upstream + " ratio"},
		Notes: []string{"ratio = nftables median / iptables median of the same plugin; below 1 means its nftables backend is faster."},
	}
	byCount := map[int]LatencyPoint{}
	for _, pt := range scale {
		byCount[pt.Attached] = pt
	}
	for _, n := range nft {
		ipt, ok := byCount[n.Attached]
		if !ok {
			continue
		}
		for _, v := range []struct {
			verb string
			pick func(LatencySamples) []float64
		}{{"ADD", func(s LatencySamples) []float64 { return s.Add }}, {"DEL", func(s LatencySamples) []float64 { return s.Del }}} {
			row := []string{strconv.Itoa(n.Attached), v.verb}
			for side := range 2 {
				a, b := stats.Summarize(v.pick(n.Sides[side])), stats.Summarize(v.pick(ipt.Sides[side]))
				row = append(row, report.Num(a.Median, 1), report.Num(b.Median, 1), report.Ratio(stats.Ratio(a.Median, b.Median)))
			}
			t.AddRow(row...)
		}
	}
	return t, len(t.Rows) > 0
}
