package main

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	fakecorev1 "k8s.io/client-go/kubernetes/typed/core/v1/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

// A refused peer becomes a Warning Event on that peer's Node; a refusal
// naming no peer lands on our own Node.
func TestEventReporter(t *testing.T) {
	fake := &k8stesting.Fake{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newEventReporter(ctx, &fakecorev1.FakeCoreV1{Fake: fake}, "n1")
	r.Skipped(podroutes.Skip{Node: "n2", CIDR: "0.0.0.0/0", Reason: "overlaps"})
	r.Skipped(podroutes.Skip{CIDR: "10.244.3.0/24", Reason: "a route that is not ours holds it"})

	want := map[string]bool{"n2": false, "n1": false}
	deadline := time.Now().Add(20 * time.Second)
	for !want["n1"] || !want["n2"] {
		if time.Now().After(deadline) {
			t.Fatalf("events seen for nodes %v; actions %v", want, fake.Actions())
		}
		for _, a := range fake.Actions() {
			c, ok := a.(k8stesting.CreateAction)
			if !ok || a.GetResource().Resource != "events" {
				continue
			}
			ev := c.GetObject().(*corev1.Event)
			if ev.Type == corev1.EventTypeWarning && ev.Reason == "PodRouteSkipped" && ev.InvolvedObject.Kind == "Node" {
				want[ev.InvolvedObject.Name] = true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}
