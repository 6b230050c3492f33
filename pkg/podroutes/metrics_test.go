package podroutes_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestStatusHTTP(t *testing.T) {
	s := &podroutes.Status{}
	h := s.Handler()
	if code, _ := get(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz before any reconcile: %d", code)
	}
	if code, _ := get(t, h, "/healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	s.Observe(podroutes.Result{Installed: 1}, errors.New("replacing route: boom"), time.Unix(100, 0))
	if code, _ := get(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz after a failed reconcile only: %d", code)
	}
	s.Observe(podroutes.Result{Installed: 2, Skips: []podroutes.Skip{{Node: "x"}}}, nil, time.Unix(1700000000, 250e6))
	if code, _ := get(t, h, "/readyz"); code != http.StatusOK {
		t.Errorf("readyz after a good reconcile: %d", code)
	}
	code, body := get(t, h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		"# TYPE netsteer_podroutes_installed gauge\nnetsteer_podroutes_installed 2\n",
		"netsteer_podroutes_skipped 1\n",
		"# TYPE netsteer_podroutes_reconciles_total counter\nnetsteer_podroutes_reconciles_total 2\n",
		"netsteer_podroutes_reconcile_errors_total 1\n",
		"netsteer_podroutes_last_sync_timestamp_seconds 1700000000.250\n",
		"netsteer_podroutes_ready 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	// Every sample line is "name value" after its HELP and TYPE lines.
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(l, "# HELP netsteer_") && !strings.HasPrefix(l, "# TYPE netsteer_") && len(strings.Fields(l)) != 2 {
			t.Errorf("malformed line %q", l)
		}
	}
}
