//go:build vm

package ipvlan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/nlx"
)

// The kill tests. An ipvlan attachment owns two things: its link in the
// container netns (under the temporary name nsi<hash> until renamed to
// eth0) and its host-local reservation. A plugin killed at any point may
// leave either or both; the DEL that follows must remove them, touch
// nothing else (the node keeps its master), and leave the attachment
// free to be ADDed again.

// bed is a node with its leak checker, one network and one container
// netns, which every trial of a kill test reuses.
type bed struct {
	n     *node
	leaks *leaks
	list  *libcni.NetworkConfigList
	conf  []byte
	c     *namespace
}

func newBed(t *testing.T, network, subnet string) *bed {
	t.Helper()
	n := newNode(t)
	b := &bed{n: n, leaks: watchLeaks(t, n), list: n.network(t, netOpts{name: network, subnet: subnet})}
	b.conf = pluginConf(t, b.list, nil)
	b.c = b.leaks.container(t, "c")
	return b
}

func (b *bed) inv(command, id string) invocation {
	return invocation{command: command, id: id, netns: b.c.Path}
}

// fastest runs a clean ADD and DEL rounds times and returns the fastest
// of each: the bound of the kill delays. The fastest, because a slow
// outlier would push most kills past the end of the command.
func (b *bed) fastest(t *testing.T, rounds int) (add, del time.Duration) {
	t.Helper()
	add, del = time.Hour, time.Hour
	for range rounds {
		start := time.Now()
		b.add(t, "nst-measure")
		add = min(add, time.Since(start))
		start = time.Now()
		b.n.mustRun(t, b.inv("DEL", "nst-measure"), b.conf)
		del = min(del, time.Since(start))
	}
	b.leaks.check(t)
	return add, del
}

// add ADDs id and checks the result and eth0: an ipvlan with id's alias
// and the result's address.
func (b *bed) add(t *testing.T, id string) *current.Result {
	t.Helper()
	res, err := current.NewResult([]byte(b.n.mustRun(t, b.inv("ADD", id), b.conf)))
	if err != nil {
		t.Fatalf("ADD %s: parsing the result: %v", id, err)
	}
	r := res.(*current.Result)
	if len(r.IPs) != 1 {
		t.Fatalf("ADD %s: result has %d IPs, want 1: %v", id, len(r.IPs), r)
	}
	want := linkAlias(b.list.Name, id)
	err = b.c.withHandle(func(h *netlink.Handle) error {
		l, err := h.LinkByName("eth0")
		if err != nil {
			return err
		}
		if l.Type() != "ipvlan" || l.Attrs().Alias != want {
			return fmt.Errorf("eth0 is a %s aliased %q, want an ipvlan aliased %q", l.Type(), l.Attrs().Alias, want)
		}
		addrs, err := h.AddrList(l, netlink.FAMILY_V4)
		if err != nil || len(addrs) != 1 || !addrs[0].IP.Equal(r.IPs[0].Address.IP) {
			return fmt.Errorf("eth0 has addresses %v (%v), want %s", addrs, err, r.IPs[0].Address.IP)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after ADD %s, in %s: %v", id, b.c.Name, err)
	}
	return r
}

// linkAlias restates the plugin's alias (plugins/ipvlan/names.go): the
// test must recognise the plugin's objects from the kernel alone.
func linkAlias(network, id string) string { return "netsteer:" + network + ":" + id + ":eth0" }

// killAfter starts the command, sends the plugin SIGKILL after delay,
// and waits for the children it started, which finish on their own.
func (b *bed) killAfter(t *testing.T, inv invocation, delay time.Duration) (killed, orphans bool) {
	t.Helper()
	p := b.n.start(t, inv, b.conf)
	time.Sleep(delay)
	killed = p.Kill(t)
	return killed, p.WaitGroup(t) > 0
}

// leftBehind names what of id's attachment exists: the temporary link
// "nsi", "eth0" (with "+addr" once it has an address), and "ip" for a
// host-local reservation; "nothing" when none.
func (b *bed) leftBehind(t *testing.T, id string) string {
	t.Helper()
	var parts []string
	err := b.c.withHandle(func(h *netlink.Handle) error {
		links, err := nlx.RetryDump(h.LinkList)
		if err != nil {
			return err
		}
		for _, l := range links {
			name := l.Attrs().Name
			switch {
			case name == "lo":
			case strings.HasPrefix(name, "nsi"):
				parts = append(parts, "nsi")
			default:
				addrs, err := h.AddrList(l, netlink.FAMILY_V4)
				if err != nil {
					return err
				}
				if len(addrs) > 0 {
					name += "+addr"
				}
				parts = append(parts, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("inspecting %s: %v", b.c.Name, err)
	}
	if b.n.reservedBy(t, b.list.Name, id) {
		parts = append(parts, "ip")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "+")
}

// problems is every leak, plus a master that went missing.
func (b *bed) problems(t *testing.T) []string {
	t.Helper()
	out := b.leaks.problems(t, false)
	links, err := b.n.ns.linkList()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(links, func(l netlink.Link) bool { return l.Attrs().Name == master && l.Type() == "dummy" }) {
		out = append(out, "master "+master+" is gone from the node")
	}
	return out
}

// randomDelay is uniform over [0, 1.2 d]: the whole run and a little past
// its end, so some kills land on a plugin that already finished.
func randomDelay(d time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(d)*12/10 + 1))
}

// crashTally is what the kill trials found, for the summary line.
type crashTally struct {
	trials, killed, finished, orphans, problems int
	left                                        map[string]int
}

func (c *crashTally) record(killed, orphans bool, left string, problems int) {
	if c.left == nil {
		c.left = map[string]int{}
	}
	c.trials++
	if killed {
		c.killed++
	} else {
		c.finished++
	}
	if orphans {
		c.orphans++
	}
	c.left[left]++
	c.problems += problems
}

func (c *crashTally) summary(verb string, clean time.Duration) string {
	var states []string
	for k, v := range c.left {
		states = append(states, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(states)
	return fmt.Sprintf("%s kill trials=%d killed-while-running=%d finished-before-kill=%d children-outlived-plugin=%d left-behind{%s} fastest clean %s=%.1fms leaks=%d",
		verb, c.trials, c.killed, c.finished, c.orphans, strings.Join(states, " "), verb, float64(clean.Microseconds())/1000, c.problems)
}

// TestKilledAtAnyPointThenDel kills ADD, runs DEL, re-ADDs the same
// attachment, kills that attachment's DEL, and runs DEL again, asserting
// a clean node after each DEL. One loop gives both kill tests: the re-ADD
// that must follow a killed ADD makes the attachment a DEL kill needs,
// which the emulated VM runs in less time than two loops.
func TestKilledAtAnyPointThenDel(t *testing.T) {
	const trials = 60
	b := newBed(t, "nstkill", "10.50.0.0/24")
	cleanAdd, cleanDel := b.fastest(t, 3)
	var adds, dels crashTally
	for i := range trials {
		id := fmt.Sprintf("nst-kill-%d", i)
		delay := randomDelay(cleanAdd)
		killed, orphans := b.killAfter(t, b.inv("ADD", id), delay)
		left := b.leftBehind(t, id)
		b.n.mustRun(t, b.inv("DEL", id), b.conf)
		probs := b.problems(t)
		for _, p := range probs {
			t.Errorf("trial %d (ADD killed after %v, killed=%v, left %s), after DEL: %s", i, delay, killed, left, p)
		}
		adds.record(killed, orphans, left, len(probs))

		b.add(t, id)
		delay = randomDelay(cleanDel)
		killed, orphans = b.killAfter(t, b.inv("DEL", id), delay)
		left = b.leftBehind(t, id)
		b.n.mustRun(t, b.inv("DEL", id), b.conf)
		probs = b.problems(t)
		for _, p := range probs {
			t.Errorf("trial %d (re-ADD, then DEL killed after %v, killed=%v, left %s), after the second DEL: %s", i, delay, killed, left, p)
		}
		dels.record(killed, orphans, left, len(probs))
	}
	t.Log(adds.summary("ADD", cleanAdd))
	t.Log(dels.summary("DEL", cleanDel))
	if adds.killed == 0 || dels.killed == 0 {
		t.Errorf("ADD killed while running %d times, DEL %d times: a kill test that never kills proves nothing", adds.killed, dels.killed)
	}
	b.leaks.check(t)
}
