package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"text/template"
)

// templateData is what a conflist template sees. The field names are
// containerd's conf_template ones, so one template serves both.
type templateData struct {
	PodCIDR       string   // the first range
	PodCIDRRanges []string // every range, e.g. IPv4 and IPv6 on a dual-stack node
}

// parsePodCIDRs parses a comma-separated list of pod CIDRs (a Node's
// spec.podCIDRs joined, or the kubelet's PodCidr) and rejects host bits,
// which host-local would refuse later with a less helpful message.
func parsePodCIDRs(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("parsing pod CIDR %q: %w", part, err)
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("pod CIDR %q has host bits set (want %s)", part, p.Masked())
		}
		out = append(out, p.String())
	}
	return out, nil
}

// renderConflist executes the conflist template for podCIDRs and checks that
// the result is a network config list a runtime will load: JSON with a
// name and at least one plugin.
func renderConflist(text string, podCIDRs []string) ([]byte, error) {
	tmpl, err := template.New("conflist").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing conflist template: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, templateData{PodCIDR: podCIDRs[0], PodCIDRRanges: podCIDRs}); err != nil {
		return nil, fmt.Errorf("rendering conflist template: %w", err)
	}
	var list struct {
		Name    string            `json:"name"`
		Plugins []json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(buf.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("rendered conflist is not JSON: %w", err)
	}
	if list.Name == "" || len(list.Plugins) == 0 {
		return nil, fmt.Errorf("rendered conflist lacks a name or plugins")
	}
	return buf.Bytes(), nil
}
