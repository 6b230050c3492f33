package podroutes

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Status is the agent's health, served over HTTP: /readyz answers 200 once
// a reconcile succeeded, /healthz always 200, and /metrics the counters in
// the Prometheus text exposition format (version 0.0.4).
type Status struct {
	mu         sync.Mutex
	ready      bool
	installed  int
	skipped    int
	reconciles uint64
	errors     uint64
	lastSync   time.Time
}

// Observe records one reconcile that ended at now.
func (s *Status) Observe(res Result, err error, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reconciles++
	s.installed, s.skipped = res.Installed, len(res.Skips)
	if err != nil {
		s.errors++
		return
	}
	s.ready = true
	s.lastSync = now
}

// Ready reports whether a reconcile has succeeded.
func (s *Status) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// Handler serves /metrics, /readyz and /healthz.
func (s *Status) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, s.Metrics())
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "routes not reconciled yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

// Metrics renders the metrics in the Prometheus text format.
func (s *Status) Metrics() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last float64
	if !s.lastSync.IsZero() {
		last = float64(s.lastSync.UnixMilli()) / 1000
	}
	ready := 0
	if s.ready {
		ready = 1
	}
	return metric("netsteer_podroutes_installed", "gauge", "Pod routes of ours to peer nodes in the routing table after the last reconcile.", fmt.Sprint(s.installed)) +
		metric("netsteer_podroutes_skipped", "gauge", "Peer pod CIDRs refused in the last reconcile (invalid, not on this L2 segment, overlapping).", fmt.Sprint(s.skipped)) +
		metric("netsteer_podroutes_reconciles_total", "counter", "Reconciles run.", fmt.Sprint(s.reconciles)) +
		metric("netsteer_podroutes_reconcile_errors_total", "counter", "Reconciles that ended with an error.", fmt.Sprint(s.errors)) +
		metric("netsteer_podroutes_last_sync_timestamp_seconds", "gauge", "Unix time of the last reconcile without error; 0 before the first.", fmt.Sprintf("%.3f", last)) +
		metric("netsteer_podroutes_ready", "gauge", "1 once a reconcile succeeded.", fmt.Sprint(ready))
}

func metric(name, typ, help, value string) string {
	return fmt.Sprintf("# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, typ, name, value)
}
