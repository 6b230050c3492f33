package main

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

// eventReporter posts a Warning Event on the Node whose pod CIDR the agent
// refused (kubectl describe node shows it), or on our own Node when the
// refusal names no peer.
type eventReporter struct {
	rec  record.EventRecorder
	self string
}

func newEventReporter(ctx context.Context, client typedcorev1.CoreV1Interface, self string) *eventReporter {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.Events("")})
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	rec := b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "netsteer-agent", Host: self})
	return &eventReporter{rec: rec, self: self}
}

func (r *eventReporter) Skipped(s podroutes.Skip) {
	name := s.Node
	if name == "" {
		name = r.self
	}
	// Nodes are cluster-scoped and the kubelet names them by UID = name in
	// its own events; the event lands in the default namespace.
	ref := &corev1.ObjectReference{Kind: "Node", Name: name, UID: types.UID(name)}
	r.rec.Eventf(ref, corev1.EventTypeWarning, "PodRouteSkipped", "netsteer-agent on %s: %s", r.self, s)
}
