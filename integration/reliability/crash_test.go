//go:build integration

package reliability

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netsteer/netsteer/integration/nstest"
)

// What "the network's rules as the network left them" means after a
// killed command and the DEL that follows: rules are per network, never
// per attachment, so
//   - once an ADD of the network has completed on the node, the network's
//     rules are present and equal, line for line, to the complete set
//     (the one a clean ADD makes);
//   - before any ADD has completed (a fresh node, or after the test
//     removed the bridge and the rules), the killed ADD may have left
//     none, some or all of them — a killed `iptables` run is atomic, the
//     jumps are added one by one — but never a line twice nor a line
//     outside the complete set; the next ADD completes the set.
// And after every DEL: no veth of the attachment, no interface but lo in
// its netns, no host-local reservation, nothing else the leak checker
// knows.

// crashTally is what the kill trials found, for the summary line.
type crashTally struct {
	mu                       sync.Mutex
	trials, killed, finished int
	firstAdds                int
	orphans                  int
	left                     map[string]int
	problems                 int
	addMs, delMs, firstMs    []float64
}

func (c *crashTally) record(f func(*crashTally)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left == nil {
		c.left = map[string]int{}
	}
	f(c)
}

func (c *crashTally) summary(verb string) string {
	var states []string
	for k, v := range c.left {
		states = append(states, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(states)
	return fmt.Sprintf("%s kill trials=%d killed-while-running=%d finished-before-kill=%d first-ADD-of-network=%d "+
		"orphaned-children=%d left-behind{%s} clean ADD=%.1fms first ADD=%.1fms DEL=%.1fms (medians over nodes of the fastest of 5) leaks=%d",
		verb, c.trials, c.killed, c.finished, c.firstAdds, c.orphans, strings.Join(states, " "),
		median(c.addMs), median(c.firstMs), median(c.delMs), c.problems)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// crashNode is one node of a kill test: a network, one container netns
// reused by every trial, and what a clean run takes.
type crashNode struct {
	node     *nstest.Node
	leaks    *nstest.Leaks
	nw       network
	c        nstest.Netns
	complete []string
	// addTime, firstAddTime and delTime bound the kill delays.
	addTime, firstAddTime, delTime time.Duration
}

func newCrashNode(t *testing.T, i int) *crashNode {
	node := nstest.NewNode(t)
	nw := network{Name: fmt.Sprintf("crash%d", i), Bridge: "nstbrc", Subnet: fmt.Sprintf("10.90.%d.0/24", i)}
	cn := &crashNode{node: node, leaks: nstest.WatchLeaks(t, node, nw.Name), nw: nw}
	cn.c = cn.leaks.Netns(t, "crash")
	cn.firstAddTime = cn.timed(t, "ADD", "measure")
	cn.complete = networkRules(t, node, nw)
	if len(cn.complete) == 0 {
		t.Fatal("a clean ADD made no netfilter rules: the kill test would prove nothing about them")
	}
	cn.delTime = cn.timed(t, "DEL", "measure")
	// The fastest of a few runs: on a loaded machine a slow outlier would
	// push most kills past the end of the command.
	for range 5 {
		cn.addTime = minPositive(cn.addTime, cn.timed(t, "ADD", "measure"))
		cn.delTime = min(cn.delTime, cn.timed(t, "DEL", "measure"))
	}
	return cn
}

// timed runs one command to completion and returns how long it took.
func (cn *crashNode) timed(t *testing.T, command, id string) time.Duration {
	t.Helper()
	start := time.Now()
	mustRun(t, cn.node, cn.nw, command, id, cn.c.Path())
	return time.Since(start)
}

// kill starts command for id, kills the plugin after delay, then waits
// for the children it started, which finish on their own.
func (cn *crashNode) kill(t *testing.T, command, id string, delay time.Duration) (killed, orphans bool) {
	t.Helper()
	p := cn.node.StartPlugin(t, "vethbridge", env(command, id, cn.c.Path()), cn.nw.conf())
	time.Sleep(delay)
	killed = p.Kill(t)
	return killed, p.WaitGroup(t) > 0
}

// leftBehind names what the killed command left of the attachment and,
// when it was the network's first ADD, whether it got to the rules.
func (cn *crashNode) leftBehind(t *testing.T, id string, first bool) string {
	var parts []string
	if hasAttachmentVeth(t, cn.node, cn.nw, id) {
		parts = append(parts, "veth")
	}
	if reservedBy(t, cn.node, cn.nw, id) {
		parts = append(parts, "ip")
	}
	if first && len(networkRules(t, cn.node, cn.nw)) > 0 {
		parts = append(parts, "rules")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "+")
}

// problems is every leak, plus rules that are not as the network left them.
func (cn *crashNode) problems(t *testing.T, rulesComplete bool) []string {
	out := cn.leaks.Problems(t, false)
	if p := rulesProblem(networkRules(t, cn.node, cn.nw), cn.complete, rulesComplete); p != "" {
		out = append(out, p)
	}
	return out
}

// randomDelay is uniform over [0, 1.2 d]: the whole run and a little past
// its end, so some kills land on a plugin that already finished.
func randomDelay(d time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(d)*12/10 + 1))
}

func TestAddKilledAtAnyPointThenDel(t *testing.T) {
	runKillTrials(t, "ADD", 0, 4, 55, addKillTrials)
}

// runKillTrials runs trials on each of nodes crash nodes in parallel
// (numbered from base), records each node's clean timings, and logs the
// tally under label.
func runKillTrials(t *testing.T, label string, base, nodes, trialsPerNode int,
	trials func(*testing.T, *crashNode, int, *crashTally)) {
	tally := &crashTally{}
	t.Run("nodes", func(t *testing.T) {
		for i := range nodes {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				cn := newCrashNode(t, base+i)
				tally.record(func(c *crashTally) {
					c.addMs = append(c.addMs, ms(cn.addTime))
					c.firstMs = append(c.firstMs, ms(cn.firstAddTime))
					c.delMs = append(c.delMs, ms(cn.delTime))
				})
				trials(t, cn, trialsPerNode, tally)
			})
		}
	})
	t.Log(tally.summary(label))
	if tally.trials != nodes*trialsPerNode {
		t.Errorf("ran %d trials, want %d", tally.trials, nodes*trialsPerNode)
	}
}

// addKillTrials kills ADD, runs DEL, asserts the node is clean, then
// re-ADDs the same attachment and DELs it. Every fifth trial starts from a
// fresh network, so the killed ADD is the network's first.
func addKillTrials(t *testing.T, cn *crashNode, trials int, tally *crashTally) {
	complete := true
	for i := range trials {
		first := i%5 == 0
		bound := cn.addTime
		if first {
			resetNetwork(t, cn.node, cn.nw)
			complete, bound = false, cn.firstAddTime
		}
		id := fmt.Sprintf("crash-add-%d", i)
		delay := randomDelay(bound)
		killed, orphans := cn.kill(t, "ADD", id, delay)
		left := cn.leftBehind(t, id, first)
		mustRun(t, cn.node, cn.nw, "DEL", id, cn.c.Path())
		probs := cn.problems(t, complete)
		for _, p := range probs {
			t.Errorf("trial %d (ADD killed after %v, killed=%v, left %s), after DEL: %s", i, delay, killed, left, p)
		}
		mustRun(t, cn.node, cn.nw, "ADD", id, cn.c.Path())
		complete = true
		if p := rulesProblem(networkRules(t, cn.node, cn.nw), cn.complete, true); p != "" {
			t.Errorf("trial %d, after the re-ADD: %s", i, p)
			probs = append(probs, p)
		}
		mustRun(t, cn.node, cn.nw, "DEL", id, cn.c.Path())
		after := cn.problems(t, true)
		for _, p := range after {
			t.Errorf("trial %d, after re-ADD and DEL: %s", i, p)
		}
		tally.record(func(c *crashTally) {
			c.trials++
			c.firstAdds += b2i(first)
			c.killed += b2i(killed)
			c.finished += b2i(!killed)
			c.orphans += b2i(orphans)
			c.left[left]++
			c.problems += len(probs) + len(after)
		})
	}
}

func TestDelKilledAtAnyPointThenDelAgain(t *testing.T) {
	runKillTrials(t, "DEL", 10, 2, 50, delKillTrials)
}

// delKillTrials ADDs, kills DEL, runs DEL again, asserts the node is
// clean, and re-ADDs the same attachment to prove nothing blocks it.
func delKillTrials(t *testing.T, cn *crashNode, trials int, tally *crashTally) {
	for i := range trials {
		id := fmt.Sprintf("crash-del-%d", i)
		mustRun(t, cn.node, cn.nw, "ADD", id, cn.c.Path())
		delay := randomDelay(cn.delTime)
		killed, orphans := cn.kill(t, "DEL", id, delay)
		left := cn.leftBehind(t, id, false)
		mustRun(t, cn.node, cn.nw, "DEL", id, cn.c.Path())
		probs := cn.problems(t, true)
		for _, p := range probs {
			t.Errorf("trial %d (DEL killed after %v, killed=%v, left %s), after the second DEL: %s", i, delay, killed, left, p)
		}
		mustRun(t, cn.node, cn.nw, "ADD", id, cn.c.Path())
		mustRun(t, cn.node, cn.nw, "DEL", id, cn.c.Path())
		after := cn.problems(t, true)
		for _, p := range after {
			t.Errorf("trial %d, after re-ADD and DEL: %s", i, p)
		}
		tally.record(func(c *crashTally) {
			c.trials++
			c.killed += b2i(killed)
			c.finished += b2i(!killed)
			c.orphans += b2i(orphans)
			c.left[left]++
			c.problems += len(probs) + len(after)
		})
	}
}

func minPositive(a, b time.Duration) time.Duration {
	if a == 0 {
		return b
	}
	return min(a, b)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
