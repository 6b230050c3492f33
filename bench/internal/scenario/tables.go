package scenario

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
	"time"

	"github.com/netsteer/netsteer/bench/internal/plot"
	"github.com/netsteer/netsteer/bench/internal/report"
	"github.com/netsteer/netsteer/bench/internal/stats"
)

// Results gathers what the scenarios measured; nil or empty parts were
// not run or failed before producing anything.
type Results struct {
	Scale    []LatencyPoint
	Preload  *LatencyPoint
	Parallel *[2][]ParallelRound
	Startup  *StartupSamples
	DataPath *DataPath
	NFT      *NFTResults
}

// Labels names the two sides in tables.
type Labels struct{ Ours, Upstream string }

// Tables renders every result that is present, in reading order.
func Tables(r Results, l Labels, preloadRules int) []report.Table {
	var ts []report.Table
	if len(r.Scale) > 0 || r.Preload != nil {
		ts = append(ts,
			latencyTable("CNI ADD latency (ms), one more pod", l, r, preloadRules, func(s LatencySamples) []float64 { return s.Add }),
			latencyTable("CNI DEL latency (ms), same pod, prevResult from ADD", l, r, preloadRules, func(s LatencySamples) []float64 { return s.Del }),
			rulesTable(l, r, preloadRules))
	}
	if r.NFT != nil && len(r.NFT.Points) > 0 {
		ts = append(ts, nftTables(l, r.NFT)...)
		if t, ok := backendTable(l, r.Scale, r.NFT.Points); ok {
			ts = append(ts, t)
		}
	}
	if r.Parallel != nil {
		ts = append(ts, parallelTable(l, *r.Parallel))
	}
	if r.Startup != nil {
		ts = append(ts, startupTable(l, *r.Startup))
	}
	if r.DataPath != nil && len(r.DataPath.RR) > 0 {
		ts = append(ts, rrTable(l, r.DataPath))
	}
	if r.DataPath != nil && len(r.DataPath.Iperf) > 0 {
		ts = append(ts, iperfTable(r.DataPath))
	}
	return ts
}

func latencyTable(title string, l Labels, r Results, preloadRules int, pick func(LatencySamples) []float64) report.Table {
	t := report.Table{
		Title: title,
		Header: []string{"pods attached", l.Ours + " median", l.Ours + " p90",
			l.Upstream + " median", l.Upstream + " p90", "ratio of medians", "samples"},
		Notes: []string{fmt.Sprintf("ratio = %s / %s; below 1 means ours is faster. p90 is nearest-rank.", l.Ours, l.Upstream)},
	}
	row := func(label string, pt LatencyPoint) {
		a, b := stats.Summarize(pick(pt.Sides[0])), stats.Summarize(pick(pt.Sides[1]))
		t.AddRow(label, report.Num(a.Median, 1), report.Num(a.P90, 1), report.Num(b.Median, 1), report.Num(b.P90, 1),
			report.Ratio(stats.Ratio(a.Median, b.Median)), fmt.Sprintf("%d+%d", a.N, b.N))
	}
	for _, pt := range r.Scale {
		row(strconv.Itoa(pt.Attached), pt)
	}
	if r.Preload != nil {
		row(fmt.Sprintf("1, +%d nat rules", preloadRules), *r.Preload)
	}
	return t
}

func rulesTable(l Labels, r Results, preloadRules int) report.Table {
	t := report.Table{
		Title:  "iptables rules in the host netns before the measured ADD (iptables-save -A lines)",
		Header: []string{"pods attached", l.Ours + " nat", l.Ours + " filter", l.Upstream + " nat", l.Upstream + " filter"},
	}
	row := func(label string, pt LatencyPoint) {
		t.AddRow(label, count(pt.Sides[0].Rules, "nat"), count(pt.Sides[0].Rules, "filter"),
			count(pt.Sides[1].Rules, "nat"), count(pt.Sides[1].Rules, "filter"))
	}
	for _, pt := range r.Scale {
		row(strconv.Itoa(pt.Attached), pt)
	}
	if r.Preload != nil {
		row(fmt.Sprintf("1, +%d nat rules", preloadRules), *r.Preload)
	}
	return t
}

func count(m map[string]int, table string) string {
	if m == nil {
		return "n/a"
	}
	return strconv.Itoa(m[table])
}

func parallelTable(l Labels, rounds [2][]ParallelRound) report.Table {
	t := report.Table{
		Title:  "Parallel ADDs then parallel DELs on a fresh node (wall time, ms)",
		Header: []string{"plugin", "ADD wall median", "DEL wall median", "ADD failures", "DEL failures", "duplicate IPs", "rounds"},
		Notes:  []string{"Failures are summed over all rounds; a wall time that includes failed calls is not comparable."},
	}
	var med [2][2]float64
	for i, name := range []string{l.Ours, l.Upstream} {
		var add, del []float64
		var af, df, dups int
		for _, r := range rounds[i] {
			add = append(add, ms(r.AddWall))
			del = append(del, ms(r.DelWall))
			af += r.AddFailed
			df += r.DelFailed
			dups += len(r.Duplicates)
		}
		a, d := stats.Summarize(add), stats.Summarize(del)
		med[i] = [2]float64{a.Median, d.Median}
		t.AddRow(name, report.Num(a.Median, 0), report.Num(d.Median, 0), strconv.Itoa(af), strconv.Itoa(df), strconv.Itoa(dups), strconv.Itoa(a.N))
	}
	t.AddRow("ratio", report.Ratio(stats.Ratio(med[0][0], med[1][0])), report.Ratio(stats.Ratio(med[0][1], med[1][1])))
	return t
}

func startupTable(l Labels, s StartupSamples) report.Table {
	t := report.Table{
		Title:  "Start-up: CNI_COMMAND=VERSION, fork to exit (ms)",
		Header: []string{"binary", "median", "p90", "samples"},
	}
	a, b, tr := stats.Summarize(s.Sides[0]), stats.Summarize(s.Sides[1]), stats.Summarize(s.True)
	t.AddRow(l.Ours, report.Num(a.Median, 2), report.Num(a.P90, 2), strconv.Itoa(a.N))
	t.AddRow(l.Upstream, report.Num(b.Median, 2), report.Num(b.P90, 2), strconv.Itoa(b.N))
	t.AddRow("/bin/true (floor)", report.Num(tr.Median, 2), report.Num(tr.P90, 2), strconv.Itoa(tr.N))
	t.Notes = []string{fmt.Sprintf("ratio of medians %s / %s: %s", l.Ours, l.Upstream, report.Ratio(stats.Ratio(a.Median, b.Median)))}
	return t
}

func rrTable(l Labels, dp *DataPath) report.Table {
	t := report.Table{
		Title:  "TCP_RR, 1-byte request/response (transactions/s), pinned",
		Header: []string{"path", "pinning", "median", "min", "max", "vs upstream", "vs loopback", "samples"},
		Notes: []string{
			"vs upstream = median / median of container->container over upstream with the same pinning (for a realistic node, upstream on the same kind of node); vs loopback = median / container loopback with the same pinning.",
			"Pinning with sched_setaffinity; unpinned runs on this 2-vCPU VM are bimodal and useless for ratios.",
		},
	}
	ref := func(prefix, pin string) float64 {
		for _, s := range dp.RR {
			if s.Pinning == pin && strings.HasPrefix(s.Path, prefix) {
				return stats.Summarize(s.TPS).Median
			}
		}
		return stats.Summarize(nil).Median
	}
	for _, s := range dp.RR {
		sum := stats.Summarize(s.TPS)
		t.AddRow(s.Path, s.Pinning, report.Num(sum.Median, 0), report.Num(sum.Min, 0), report.Num(sum.Max, 0),
			report.Ratio(stats.Ratio(sum.Median, ref("container->container, "+RealisticGroup(s.Path)+"upstream", s.Pinning))),
			report.Ratio(stats.Ratio(sum.Median, ref("container loopback", s.Pinning))),
			strconv.Itoa(sum.N))
	}
	return t
}

func iperfTable(dp *DataPath) report.Table {
	t := report.Table{
		Title: "iperf3 container->container (medians; counters in the sender's netns)",
		Header: []string{"steering", "streams", "Gbit/s", "vs upstream", "retransmits",
			"TCPSACKReorder", "TCPSACKReneging", "samples"},
		Notes: append([]string{"Unpinned: steering is about which CPUs do the work. Host veth settings as the kernel shows them:"}, bulletize(dp.Applied)...),
	}
	t.Notes = append(t.Notes, dp.Notes...)
	ref := map[string]float64{}
	for _, s := range dp.Iperf {
		if g := RealisticGroup(s.Steering); strings.HasPrefix(strings.TrimPrefix(s.Steering, g), "upstream") {
			ref[fmt.Sprint(g, s.Streams)] = stats.Summarize(s.Gbps).Median
		}
	}
	for _, s := range dp.Iperf {
		g := stats.Summarize(s.Gbps)
		r, ok := ref[fmt.Sprint(RealisticGroup(s.Steering), s.Streams)]
		if !ok {
			r = stats.Summarize(nil).Median
		}
		t.AddRow(s.Steering, strconv.Itoa(s.Streams), report.Num(g.Median, 2), report.Ratio(stats.Ratio(g.Median, r)),
			report.Num(stats.Summarize(s.Retrans).Median, 0), report.Num(stats.Summarize(s.Reorder).Median, 0),
			report.Num(stats.Summarize(s.Reneging).Median, 0), strconv.Itoa(g.N))
	}
	return t
}

func bulletize(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "- " + l
	}
	return out
}

// Chart plots ADD and DEL medians against pods attached for both sides.
func Chart(r Results, l Labels) plot.Chart {
	blue := color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	red := color.RGBA{0xd6, 0x27, 0x28, 0xff}
	series := func(name string, side int, c color.RGBA, dashed bool, pick func(LatencySamples) []float64) plot.Series {
		s := plot.Series{Name: name, Color: c, Dashed: dashed}
		for _, pt := range r.Scale {
			s.X = append(s.X, float64(pt.Attached))
			s.Y = append(s.Y, stats.Summarize(pick(pt.Sides[side])).Median)
		}
		return s
	}
	add := func(s LatencySamples) []float64 { return s.Add }
	del := func(s LatencySamples) []float64 { return s.Del }
	return plot.Chart{
		Title:  "CNI ADD and DEL median latency vs pods attached",
		XLabel: "pods attached", YLabel: "ms (median)",
		Width: 900, Height: 600,
		Series: []plot.Series{
			series("ADD "+l.Ours, 0, blue, false, add),
			series("ADD "+l.Upstream, 1, blue, true, add),
			series("DEL "+l.Ours, 0, red, false, del),
			series("DEL "+l.Upstream, 1, red, true, del),
		},
	}
}

// Elapsed formats a run time for the report.
func Elapsed(d time.Duration) string { return d.Round(time.Second).String() }
