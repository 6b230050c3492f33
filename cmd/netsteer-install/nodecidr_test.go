package main

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPIServer serves GET /api/v1/nodes/<name> from nodes (JSON bodies) and
// checks the bearer token.
func fakeAPIServer(t *testing.T, token string, nodes func(name string) (int, string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"reason":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/api/v1/nodes/")
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		code, body := nodes(name)
		w.WriteHeader(code)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serviceAccount writes what kubelet mounts into a pod: token and CA.
func serviceAccount(t *testing.T, srv *httptest.Server, token string) (string, func(string) string) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), token+"\n", 0o600)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	writeFile(t, filepath.Join(dir, "ca.crt"), string(ca), 0o644)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KUBERNETES_SERVICE_HOST": u.Hostname(), "KUBERNETES_SERVICE_PORT": u.Port()}
	return dir, func(k string) string { return env[k] }
}

func TestNodePodCIDRs(t *testing.T) {
	nodes := map[string]string{
		"dual":    `{"spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24","fd00:1::/64"]}}`,
		"old":     `{"spec":{"podCIDR":"10.244.2.0/24"}}`,
		"nocidr":  `{"spec":{}}`,
		"garbled": `{"spec":`,
	}
	srv := fakeAPIServer(t, "s3cret", func(name string) (int, string) {
		if body, ok := nodes[name]; ok {
			return http.StatusOK, body
		}
		return http.StatusNotFound, `{"reason":"NotFound"}`
	})
	saDir, getenv := serviceAccount(t, srv, "s3cret")
	api, err := inClusterNodeAPI(saDir, getenv)
	if err != nil {
		t.Fatalf("inClusterNodeAPI: %v", err)
	}
	tests := []struct {
		node, want, wantErr string
	}{
		{"dual", "10.244.1.0/24,fd00:1::/64", ""},
		{"old", "10.244.2.0/24", ""},
		{"nocidr", "", "no spec.podCIDR yet"},
		{"garbled", "", "decoding node garbled"},
		{"absent", "", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			got, err := api.podCIDRs(context.Background(), tt.node)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("podCIDRs(%s) = %q, %v; want error containing %q", tt.node, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("podCIDRs(%s) = %q, %v; want %q", tt.node, got, err, tt.want)
			}
		})
	}

	wrongToken := api
	wrongToken.token = "nope"
	if _, err := wrongToken.podCIDRs(context.Background(), "dual"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("podCIDRs with a wrong token = %v, want 401", err)
	}
}

func TestWaitPodCIDRs(t *testing.T) {
	var calls atomic.Int32
	srv := fakeAPIServer(t, "tok", func(string) (int, string) {
		// The controller manager assigns the CIDR on the third look.
		if calls.Add(1) < 3 {
			return http.StatusOK, `{"spec":{}}`
		}
		return http.StatusOK, `{"spec":{"podCIDR":"10.244.3.0/24"}}`
	})
	saDir, getenv := serviceAccount(t, srv, "tok")
	api, err := inClusterNodeAPI(saDir, getenv)
	if err != nil {
		t.Fatalf("inClusterNodeAPI: %v", err)
	}
	got, err := api.waitPodCIDRs(context.Background(), "n1", time.Millisecond)
	if err != nil || got != "10.244.3.0/24" || calls.Load() != 3 {
		t.Fatalf("waitPodCIDRs = %q, %v after %d calls; want 10.244.3.0/24 after 3", got, err, calls.Load())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls.Store(-1000) // never assigned within this wait
	if _, err := api.waitPodCIDRs(ctx, "n1", time.Millisecond); err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("waitPodCIDRs with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestInClusterNodeAPIErrors(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		return map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}[k]
	}
	if _, err := inClusterNodeAPI(dir, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "not running in a cluster") {
		t.Errorf("without service env: %v", err)
	}
	if _, err := inClusterNodeAPI(dir, env); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("without token: %v", err)
	}
	writeFile(t, filepath.Join(dir, "token"), "t", 0o600)
	writeFile(t, filepath.Join(dir, "ca.crt"), "not a pem", 0o644)
	if _, err := inClusterNodeAPI(dir, env); err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("with a bad CA: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "ca.crt")); err != nil {
		t.Fatal(err)
	}
	if _, err := inClusterNodeAPI(dir, env); err == nil || !strings.Contains(err.Error(), "CA") {
		t.Errorf("without CA: %v", err)
	}
}
