package podroutes_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	fcache "k8s.io/client-go/tools/cache/testing"

	"github.com/netsteer/netsteer/pkg/podroutes"
	"github.com/netsteer/netsteer/pkg/podroutes/podroutestest"
)

type reports struct {
	mu    sync.Mutex
	skips []string
}

func (r *reports) Skipped(s podroutes.Skip) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skips = append(r.skips, s.String())
}

func (r *reports) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.skips...)
}

func apiNode(name, cidr, ip string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.NodeSpec{PodCIDRs: []string{cidr}},
		Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}},
	}
}

// The agent follows Node objects through an informer on a fake API
// server: added, changed and deleted Nodes change the table; a refused peer
// is reported once however many reconciles see it; routes stay when the
// agent stops.
func TestAgentFollowsNodes(t *testing.T) {
	tb := node1Table()
	src := fcache.NewFakeControllerSource()
	src.Add(apiNode("n1", "10.244.1.0/24", "192.168.1.1"))
	src.Add(apiNode("n2", "10.244.2.0/24", "192.168.1.2"))
	src.Add(apiNode("far", "10.244.5.0/24", "192.168.7.5"))
	api := &flakyAPI{src: src}
	rep := &reports{}
	status := &podroutes.Status{}
	ag := &podroutes.Agent{
		Reconciler: reconciler(tb),
		Status:     status,
		Reporter:   rep,
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Resync:     10 * time.Millisecond, // many reconciles: the far node must still be reported once
		Now:        time.Now,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx, api) }()

	waitTable(t, tb, "10.244.2.0/24 via 192.168.1.2 dev eth0 proto 158")
	src.Modify(apiNode("n2", "10.244.2.0/24", "192.168.1.22"))
	waitTable(t, tb, "10.244.2.0/24 via 192.168.1.22 dev eth0 proto 158")
	src.Add(apiNode("n3", "10.244.3.0/24", "192.168.1.3"))
	waitTable(t, tb, "10.244.2.0/24 via 192.168.1.22 dev eth0 proto 158\n10.244.3.0/24 via 192.168.1.3 dev eth0 proto 158")
	src.Delete(apiNode("n2", "10.244.2.0/24", "192.168.1.22"))
	waitTable(t, tb, "10.244.3.0/24 via 192.168.1.3 dev eth0 proto 158")

	// The API server goes away: the open watch ends and every list and
	// watch fails. Reconciles go on from the informer's last list.
	api.down(true)
	src.ResetWatch()
	before := status.Metrics()
	waitMetric(t, status, before)
	if got := ours(tb); got != "10.244.3.0/24 via 192.168.1.3 dev eth0 proto 158" {
		t.Errorf("during the outage, routes of ours: %s", got)
	}
	api.down(false)
	src.Add(apiNode("n4", "10.244.4.0/24", "192.168.1.4"))
	waitTable(t, tb, "10.244.3.0/24 via 192.168.1.3 dev eth0 proto 158\n10.244.4.0/24 via 192.168.1.4 dev eth0 proto 158")

	if !status.Ready() {
		t.Error("not ready after reconciling")
	}
	m := status.Metrics()
	for _, want := range []string{"netsteer_podroutes_installed 2\n", "netsteer_podroutes_skipped 1\n", "netsteer_podroutes_reconcile_errors_total 0\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if got := ours(tb); got != "10.244.3.0/24 via 192.168.1.3 dev eth0 proto 158\n10.244.4.0/24 via 192.168.1.4 dev eth0 proto 158" {
		t.Errorf("after stop, routes of ours: %s", got)
	}
	if got := rep.list(); len(got) != 1 || !strings.Contains(got[0], "node far") {
		t.Errorf("reports %q, want the far node once", got)
	}
}

// waitTable waits for the table's routes of ours; the deadline only guards
// against a hang.
func waitTable(t *testing.T, tb *podroutestest.Table, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for ours(tb) != want {
		if time.Now().After(deadline) {
			t.Fatalf("routes of ours:\n%s\nwant:\n%s", ours(tb), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// flakyAPI is a node source that can be made unreachable.
type flakyAPI struct {
	src  *fcache.FakeControllerSource
	mu   sync.Mutex
	fail bool
}

var errAPIDown = errors.New("connection refused")

func (f *flakyAPI) down(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = v
}

func (f *flakyAPI) isDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail
}

func (f *flakyAPI) List(o metav1.ListOptions) (runtime.Object, error) {
	if f.isDown() {
		return nil, errAPIDown
	}
	return f.src.List(o)
}

func (f *flakyAPI) Watch(o metav1.ListOptions) (watch.Interface, error) {
	if f.isDown() {
		return nil, errAPIDown
	}
	return f.src.Watch(o)
}

// waitMetric waits until at least two more reconciles ran than the
// metrics before show.
func waitMetric(t *testing.T, s *podroutes.Status, before string) {
	t.Helper()
	count := func(m string) int {
		var n int
		for _, l := range strings.Split(m, "\n") {
			if _, err := fmt.Sscanf(l, "netsteer_podroutes_reconciles_total %d", &n); err == nil {
				return n
			}
		}
		return -1
	}
	start := count(before)
	deadline := time.Now().Add(20 * time.Second)
	for count(s.Metrics()) < start+2 {
		if time.Now().After(deadline) {
			t.Fatalf("no reconcile during the outage:\n%s", s.Metrics())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
