package podroutes_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/pkg/podroutes"
	"github.com/netsteer/netsteer/pkg/podroutes/podroutestest"
)

// node1 is the node under test: on 192.168.1.0/24 (eth0) and
// fd00:1::/64, with its own pods on netsteer0.
func node1Table() *podroutestest.Table {
	return podroutestest.NewTable(
		"192.168.1.1/24 eth0",
		"fd00:1::1/64 eth0",
		"10.244.1.1/24 netsteer0",
		"10.0.0.1/32 lo",
	)
}

func node(name string, cidrs, ips string) podroutes.Node {
	n := podroutes.Node{Name: name}
	if cidrs != "" {
		n.PodCIDRs = strings.Split(cidrs, ",")
	}
	if ips != "" {
		n.InternalIPs = strings.Split(ips, ",")
	}
	return n
}

var cluster = []podroutes.Node{
	node("n1", "10.244.1.0/24,fd00:244:1::/64", "192.168.1.1,fd00:1::1"),
	node("n2", "10.244.2.0/24,fd00:244:2::/64", "192.168.1.2,fd00:1::2"),
	node("n3", "10.244.3.0/24", "192.168.1.3"),
}

const clusterRoutes = `10.244.1.0/24 dev netsteer0 proto 2
10.244.2.0/24 via 192.168.1.2 dev eth0 proto 158
10.244.3.0/24 via 192.168.1.3 dev eth0 proto 158
192.168.1.0/24 dev eth0 proto 2
fd00:1::/64 dev eth0 proto 2
fd00:244:2::/64 via fd00:1::2 dev eth0 proto 158`

func reconciler(t *podroutestest.Table) *podroutes.Reconciler {
	return &podroutes.Reconciler{Table: t, Node: "n1", Proto: podroutes.Protocol}
}

func mustReconcile(t *testing.T, tb *podroutestest.Table, nodes []podroutes.Node) podroutes.Result {
	t.Helper()
	res, err := reconciler(tb).Reconcile(nodes)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return res
}

func TestReconcileSequence(t *testing.T) {
	tb := node1Table()
	steps := []struct {
		name  string
		nodes []podroutes.Node
		want  string // route lines of proto 158 only
		calls int
	}{
		{"add", cluster, `10.244.2.0/24 via 192.168.1.2 dev eth0 proto 158
10.244.3.0/24 via 192.168.1.3 dev eth0 proto 158
fd00:244:2::/64 via fd00:1::2 dev eth0 proto 158`, 3},
		{"same again changes nothing", cluster, "", 0},
		{"podCIDR changes", []podroutes.Node{cluster[0], cluster[1], node("n3", "10.244.9.0/24", "192.168.1.3")},
			`10.244.2.0/24 via 192.168.1.2 dev eth0 proto 158
10.244.9.0/24 via 192.168.1.3 dev eth0 proto 158
fd00:244:2::/64 via fd00:1::2 dev eth0 proto 158`, 2},
		{"address changes", []podroutes.Node{cluster[0], cluster[1], node("n3", "10.244.9.0/24", "192.168.1.33")},
			`10.244.2.0/24 via 192.168.1.2 dev eth0 proto 158
10.244.9.0/24 via 192.168.1.33 dev eth0 proto 158
fd00:244:2::/64 via fd00:1::2 dev eth0 proto 158`, 1},
		{"node removed", []podroutes.Node{cluster[0], cluster[1]},
			`10.244.2.0/24 via 192.168.1.2 dev eth0 proto 158
fd00:244:2::/64 via fd00:1::2 dev eth0 proto 158`, 1},
		{"IPv6 address gone", []podroutes.Node{cluster[0], node("n2", "10.244.2.0/24,fd00:244:2::/64", "192.168.1.2")},
			`10.244.2.0/24 via 192.168.1.2 dev eth0 proto 158`, 1},
		{"every peer gone", []podroutes.Node{cluster[0]}, ``, 1},
	}
	prev := ""
	for _, s := range steps {
		tb.Calls = nil
		mustReconcile(t, tb, s.nodes)
		got := ours(tb)
		want := s.want
		if s.name == "same again changes nothing" {
			want = prev
		}
		if got != want {
			t.Errorf("%s: routes of ours:\n%s\nwant:\n%s", s.name, got, want)
		}
		if len(tb.Calls) != s.calls {
			t.Errorf("%s: calls %q, want %d", s.name, tb.Calls, s.calls)
		}
		prev = got
	}
	if !strings.Contains(tb.String(), "192.168.1.0/24 dev eth0 proto 2") {
		t.Errorf("connected routes touched:\n%s", tb)
	}
}

// ours is the table's routes of our protocol, sorted.
func ours(tb *podroutestest.Table) string {
	var out []string
	for _, l := range strings.Split(tb.String(), "\n") {
		if strings.HasSuffix(l, " proto 158") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestReconcileWholeTable(t *testing.T) {
	tb := node1Table()
	mustReconcile(t, tb, cluster)
	if got := tb.String(); got != clusterRoutes {
		t.Errorf("table:\n%s\nwant:\n%s", got, clusterRoutes)
	}
}

// A restarted agent finds routes of its previous run: the ones still wanted
// stay untouched, stale ones go, foreign ones stay.
func TestReconcileRestart(t *testing.T) {
	tb := node1Table()
	mustReconcile(t, tb, cluster)
	stale := mustRoute(t, "10.244.7.0/24 via 192.168.1.7 dev eth0", podroutes.Protocol)
	foreign := mustRoute(t, "10.50.0.0/16 via 192.168.1.254 dev eth0", 4)
	tb.Route = append(tb.Route, stale, foreign)
	tb.Calls = nil

	mustReconcile(t, tb, cluster)
	want := clusterRoutes + "\n10.50.0.0/16 via 192.168.1.254 dev eth0 proto 4"
	if got := sortLines(tb.String()); got != sortLines(want) {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if len(tb.Calls) != 1 || !strings.HasPrefix(tb.Calls[0], "delete 10.244.7.0/24") {
		t.Errorf("calls %q, want only the stale route deleted", tb.Calls)
	}
}

// An API server outage leaves the agent with its informer's last list: the
// same nodes again must not change a route, and a failing table must not
// either.
func TestReconcileOutageKeepsRoutes(t *testing.T) {
	tb := node1Table()
	mustReconcile(t, tb, cluster)
	for _, fail := range []string{"", "Addrs", "Routes"} {
		tb.Fail = map[string]bool{fail: true}
		tb.Calls = nil
		_, err := reconciler(tb).Reconcile(cluster)
		if fail != "" && !errors.Is(err, podroutestest.ErrInjected) {
			t.Errorf("%s failing: err %v, want the injected failure", fail, err)
		}
		if len(tb.Calls) != 0 || tb.String() != clusterRoutes {
			t.Errorf("%s failing: calls %q, table:\n%s", fail, tb.Calls, tb)
		}
	}
}

func TestReconcileFailingWritesCarryOn(t *testing.T) {
	for _, fail := range []string{"Replace", "Delete"} {
		tb := node1Table()
		tb.Route = append(tb.Route, mustRoute(t, "10.244.7.0/24 via 192.168.1.7 dev eth0", podroutes.Protocol))
		tb.Fail[fail] = true
		res, err := reconciler(tb).Reconcile(cluster)
		if !errors.Is(err, podroutestest.ErrInjected) {
			t.Errorf("%s failing: err %v, want the injected failure", fail, err)
		}
		// Every route was still attempted.
		if len(tb.Calls) != 4 {
			t.Errorf("%s failing: calls %q, want 1 delete and 3 replaces", fail, tb.Calls)
		}
		if fail == "Replace" && res.Installed != 0 || fail == "Delete" && res.Installed != 3 {
			t.Errorf("%s failing: installed %d", fail, res.Installed)
		}
		// The next reconcile, with the table healthy, converges.
		tb.Fail = map[string]bool{}
		mustReconcile(t, tb, cluster)
		if tb.String() != clusterRoutes {
			t.Errorf("%s failing, then healed: table:\n%s", fail, tb)
		}
	}
}

// A destination held by a route that is not ours is left alone.
func TestReconcileLeavesForeignRoute(t *testing.T) {
	tb := node1Table()
	tb.Route = append(tb.Route, mustRoute(t, "10.244.3.0/24 via 192.168.1.254 dev eth0", 4))
	res := mustReconcile(t, tb, cluster)
	if !strings.Contains(tb.String(), "10.244.3.0/24 via 192.168.1.254 dev eth0 proto 4") {
		t.Errorf("foreign route replaced:\n%s", tb)
	}
	if res.Installed != 2 || len(res.Skips) != 1 || !strings.Contains(res.Skips[0].Reason, "not ours") {
		t.Errorf("result %+v, want 2 installed and the foreign destination skipped", res)
	}
}

func TestClean(t *testing.T) {
	tb := node1Table()
	mustReconcile(t, tb, cluster)
	tb.Route = append(tb.Route, mustRoute(t, "10.50.0.0/16 via 192.168.1.254 dev eth0", 4))
	if err := reconciler(tb).Clean(); err != nil {
		t.Fatal(err)
	}
	if got := ours(tb); got != "" {
		t.Errorf("routes of ours left: %s", got)
	}
	if !strings.Contains(tb.String(), "10.50.0.0/16") {
		t.Errorf("foreign route deleted:\n%s", tb)
	}
}

// Whatever order the cluster's states arrive in, the table ends as the last
// state asks: reconcile holds no memory but the table.
func TestReconcileConvergesInAnyOrder(t *testing.T) {
	states := [][]podroutes.Node{
		cluster,
		{cluster[0]},
		{cluster[0], node("n3", "10.244.9.0/24", "192.168.1.3")},
		{cluster[0], cluster[1], node("n4", "10.244.4.0/24,fd00:244:4::/64", "fd00:1::4,192.168.1.4")},
		{cluster[0], node("n2", "10.244.2.0/24", "192.168.1.200")},
	}
	for i, last := range states {
		fresh := node1Table()
		mustReconcile(t, fresh, last)
		r := rand.New(rand.NewPCG(uint64(i), 1))
		for range 20 {
			tb := node1Table()
			for _, j := range r.Perm(len(states)) {
				mustReconcile(t, tb, states[j])
			}
			mustReconcile(t, tb, last)
			if tb.String() != fresh.String() {
				t.Fatalf("state %d after random history:\n%s\nfresh:\n%s", i, tb, fresh)
			}
		}
	}
}

func mustRoute(t *testing.T, s string, proto int) podroutes.Route {
	t.Helper()
	r, err := parseRoute(s)
	if err != nil {
		t.Fatal(err)
	}
	r.Proto = proto
	return r
}

func sortLines(s string) string {
	l := strings.Split(s, "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// parseRoute reads "DST via GW dev DEV".
func parseRoute(s string) (podroutes.Route, error) {
	var dst, via, dev string
	if _, err := fmt.Sscanf(s, "%s via %s dev %s", &dst, &via, &dev); err != nil {
		return podroutes.Route{}, fmt.Errorf("route %q: %w", s, err)
	}
	d, err := netip.ParsePrefix(dst)
	if err != nil {
		return podroutes.Route{}, err
	}
	g, err := netip.ParseAddr(via)
	if err != nil {
		return podroutes.Route{}, err
	}
	return podroutes.Route{Dst: d, Via: g, Dev: dev}, nil
}
