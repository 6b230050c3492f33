//go:build integration

package reliability

import (
	"fmt"
	"sync"
	"testing"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/integration/nstest"
)

// parallelism bounds concurrent plugin runs, as a runtime's pod workers do.
const parallelism = 32

// pod is one attachment of the concurrency tests.
type pod struct {
	nw   network
	list *libcni.NetworkConfigList
	a    nstest.Attachment
}

// op is ADD or DEL of one pod.
type op struct {
	add bool
	p   pod
}

// churn runs ops with bounded parallelism through libcni and returns the
// address each ADD got; every op must succeed.
func churn(t *testing.T, node *nstest.Node, ops []op) map[string]string {
	t.Helper()
	var mu sync.Mutex
	addrs := map[string]string{}
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for _, o := range ops {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if !o.add {
				if err := node.Del(t, o.p.list, o.p.a); err != nil {
					t.Errorf("DEL %s: %v", o.p.a.ID, err)
				}
				return
			}
			r, err := node.Add(t, o.p.list, o.p.a)
			if err != nil {
				t.Errorf("ADD %s: %v", o.p.a.ID, err)
				return
			}
			res, err := current.NewResultFromResult(r)
			if err != nil || len(res.IPs) != 1 {
				t.Errorf("ADD %s result: %v %v", o.p.a.ID, err, r)
				return
			}
			mu.Lock()
			addrs[o.p.a.ID] = res.IPs[0].Address.IP.String()
			mu.Unlock()
		}()
	}
	wg.Wait()
	return addrs
}

// concurrencyNode is a node with networks and their loaded conflists.
type concurrencyNode struct {
	node  *nstest.Node
	leaks *nstest.Leaks
	lists map[string]*libcni.NetworkConfigList
}

func newConcurrencyNode(t *testing.T, nws ...network) *concurrencyNode {
	t.Helper()
	node := nstest.NewNode(t)
	var names []string
	for _, nw := range nws {
		names = append(names, nw.Name)
	}
	cn := &concurrencyNode{node: node, leaks: nstest.WatchLeaks(t, node, names...), lists: map[string]*libcni.NetworkConfigList{}}
	for _, nw := range nws {
		cn.lists[nw.Name] = node.Conflist(t, nw.Name+".conflist", nw.conflist())
	}
	return cn
}

// pods makes n pods spread over the networks in turn, ids from first on.
func (cn *concurrencyNode) pods(t *testing.T, nws []network, first, n int) []pod {
	t.Helper()
	var out []pod
	for i := first; i < first+n; i++ {
		nw := nws[i%len(nws)]
		a := nstest.Attachment{ID: fmt.Sprintf("pod-%d", i), Netns: cn.leaks.Netns(t, "p"), IfName: "eth0"}
		out = append(out, pod{nw: nw, list: cn.lists[nw.Name], a: a})
	}
	return out
}

// assertOnce fails unless each network has exactly one jump rule in
// FORWARD and in POSTROUTING, one bridge each, and addresses are unique;
// it returns how many addresses were given twice.
func (cn *concurrencyNode) assertOnce(t *testing.T, nws []network, addrs ...map[string]string) (dups int) {
	t.Helper()
	for _, nw := range nws {
		for _, tc := range [][2]string{{"filter", "FORWARD"}, {"nat", "POSTROUTING"}} {
			if n := jumpCount(t, cn.node, nw.Name, tc[0], tc[1]); n != 1 {
				t.Errorf("network %s: %d jump rules in %s %s, want exactly 1", nw.Name, n, tc[0], tc[1])
			}
		}
	}
	if n := len(cn.node.Host.LinksOfKind(t, "bridge")); n != len(nws) {
		t.Errorf("%d bridges on the node, want %d", n, len(nws))
	}
	owner := map[string]string{}
	for _, m := range addrs {
		for id, a := range m {
			if other, dup := owner[a]; dup {
				t.Errorf("address %s given to both %s and %s", a, other, id)
				dups++
			}
			owner[a] = id
		}
	}
	return dups
}

func TestHundredPodsInParallel(t *testing.T) {
	for _, tc := range []struct {
		name string
		nws  []network
	}{
		{"one network", []network{{Name: "par", Bridge: "nstbrp", Subnet: "10.93.0.0/22"}}},
		{"two networks sharing nothing", []network{
			{Name: "para", Bridge: "nstbra", Subnet: "10.93.4.0/22"},
			{Name: "parb", Bridge: "nstbrb", Subnet: "10.93.8.0/22"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cn := newConcurrencyNode(t, tc.nws...)
			first := cn.pods(t, tc.nws, 0, 100)
			var ops []op
			for _, p := range first {
				ops = append(ops, op{add: true, p: p})
			}
			live := churn(t, cn.node, ops)
			dups := cn.assertOnce(t, tc.nws, live)

			// DEL half while ADDing 50 new, interleaved.
			second := cn.pods(t, tc.nws, 100, 50)
			ops = nil
			for i := range 50 {
				ops = append(ops, op{add: false, p: first[2*i]}, op{add: true, p: second[i]})
			}
			added := churn(t, cn.node, ops)
			for i := range 50 {
				delete(live, first[2*i].a.ID)
			}
			dups += cn.assertOnce(t, tc.nws, live, added)
			if got, want := len(cn.node.Host.LinksOfKind(t, "veth")), 100; got != want {
				t.Errorf("%d host veths after the churn, want %d", got, want)
			}

			ops = nil
			for i := range 50 {
				ops = append(ops, op{add: false, p: first[2*i+1]}, op{add: false, p: second[i]})
			}
			churn(t, cn.node, ops)
			cn.leaks.Check(t)
			t.Logf("%s: ADD=150 DEL=150 at parallelism %d, networks=%d, duplicate addresses=%d, leaks=%d",
				tc.name, parallelism, len(tc.nws), dups, len(cn.leaks.Problems(t, false)))
		})
	}
}

// TestFirstAddsRaceOnAFreshNode: 30 ADDs at once on a node where neither
// the bridge nor the rules exist yet; they are created exactly once.
func TestFirstAddsRaceOnAFreshNode(t *testing.T) {
	nws := []network{{Name: "fresh", Bridge: "nstbrn", Subnet: "10.93.12.0/24"}}
	cn := newConcurrencyNode(t, nws...)
	pods := cn.pods(t, nws, 0, 30)
	var ops []op
	for _, p := range pods {
		ops = append(ops, op{add: true, p: p})
	}
	// All 30 at once: parallelism 32 lets every one start before any ends.
	addrs := churn(t, cn.node, ops)
	dups := cn.assertOnce(t, nws, addrs)
	if lines := networkRules(t, cn.node, nws[0]); len(lines) == 0 {
		t.Error("no rules after 30 ADDs")
	}
	ops = nil
	for _, p := range pods {
		ops = append(ops, op{add: false, p: p})
	}
	churn(t, cn.node, ops)
	cn.leaks.Check(t)
	t.Logf("fresh node: %d concurrent first ADDs, jump rules per chain=1 (checked), duplicate addresses=%d, leaks=%d",
		len(pods), dups, len(cn.leaks.Problems(t, false)))
}
