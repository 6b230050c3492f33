package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// errNoPodCIDR means the Node exists but has no pod CIDR assigned yet (the
// controller manager assigns it shortly after the node registers).
var errNoPodCIDR = errors.New("node has no spec.podCIDR yet")

// nodeAPI reads Node objects from the Kubernetes API server. The pod CIDR is
// not available through the downward API, so the installer asks for its
// own Node, which needs RBAC "get" on "nodes".
type nodeAPI struct {
	baseURL string // https://host:port
	token   string
	client  *http.Client
}

// inClusterNodeAPI builds a nodeAPI from the service account a pod gets
// (token and CA under saDir) and the KUBERNETES_SERVICE_* variables.
func inClusterNodeAPI(saDir string, getenv func(string) string) (nodeAPI, error) {
	host, port := getenv("KUBERNETES_SERVICE_HOST"), getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nodeAPI{}, errors.New("KUBERNETES_SERVICE_HOST/PORT unset: not running in a cluster")
	}
	token, err := os.ReadFile(filepath.Join(saDir, "token"))
	if err != nil {
		return nodeAPI{}, fmt.Errorf("reading service account token: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(saDir, "ca.crt"))
	if err != nil {
		return nodeAPI{}, fmt.Errorf("reading service account CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nodeAPI{}, fmt.Errorf("no certificate in %s", filepath.Join(saDir, "ca.crt"))
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	return nodeAPI{baseURL: "https://" + net.JoinHostPort(host, port), token: strings.TrimSpace(string(token)), client: client}, nil
}

// podCIDRs returns the node's spec.podCIDRs joined by commas (falling back
// to the older single spec.podCIDR), or errNoPodCIDR.
func (a nodeAPI) podCIDRs(ctx context.Context, node string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.baseURL+"/api/v1/nodes/"+url.PathEscape(node), nil)
	if err != nil {
		return "", fmt.Errorf("building request for node %s: %w", node, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("getting node %s: %w", node, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", fmt.Errorf("reading node %s: %w", node, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("getting node %s: %s: %s", node, resp.Status, strings.TrimSpace(string(body)))
	}
	var n struct {
		Spec struct {
			PodCIDR  string   `json:"podCIDR"`
			PodCIDRs []string `json:"podCIDRs"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return "", fmt.Errorf("decoding node %s: %w", node, err)
	}
	switch {
	case len(n.Spec.PodCIDRs) > 0:
		return strings.Join(n.Spec.PodCIDRs, ","), nil
	case n.Spec.PodCIDR != "":
		return n.Spec.PodCIDR, nil
	}
	return "", fmt.Errorf("node %s: %w", node, errNoPodCIDR)
}

// waitPodCIDRs polls podCIDRs until the node has a pod CIDR or ctx ends;
// other errors end the wait at once.
func (a nodeAPI) waitPodCIDRs(ctx context.Context, node string, every time.Duration) (string, error) {
	for {
		cidrs, err := a.podCIDRs(ctx, node)
		if !errors.Is(err, errNoPodCIDR) {
			return cidrs, err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for a pod CIDR on node %s: %w", node, errors.Join(err, ctx.Err()))
		case <-time.After(every):
		}
	}
}
