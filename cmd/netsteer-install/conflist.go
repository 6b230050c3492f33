package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"text/template"

	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/podroutes"
)

// templateData is what a conflist template sees. The field names are
// containerd's conf_template ones, so one template serves both; only
// NoMasqueradeCIDRs is ours.
type templateData struct {
	PodCIDR       string   // the first range
	PodCIDRRanges []string // every range, e.g. IPv4 and IPv6 on a dual-stack node
	noMasq        *podroutes.NoMasq
}

// NoMasqueradeCIDRs is the vethbridge key noMasqueradeCIDRs derived from
// the cluster, as a JSON array: this node's pod CIDRs widened to the
// cluster CIDR's prefix length (-cluster-prefix, -cluster-prefix6), which
// is the cluster CIDR every node's range is allocated from, plus
// -no-masquerade-extra (the Service CIDR). Nodes that join later are
// covered, and every node renders the same list.
func (d templateData) NoMasqueradeCIDRs() (string, error) {
	if d.noMasq == nil {
		return "", errors.New("the template uses .NoMasqueradeCIDRs: set -cluster-prefix (NETSTEER_CLUSTER_PREFIX) or -cluster-prefix6 (NETSTEER_CLUSTER_PREFIX6)")
	}
	for _, c := range d.PodCIDRRanges {
		p := netip.MustParsePrefix(c) // checked by parsePodCIDRs
		flagName, bits := "-cluster-prefix", d.noMasq.Bits4
		if p.Addr().Is6() {
			flagName, bits = "-cluster-prefix6", d.noMasq.Bits6
		}
		if bits == 0 || bits > p.Bits() {
			return "", fmt.Errorf("%s %d: want the length of the cluster CIDR pod CIDR %s was allocated from, 1 to %d", flagName, bits, c, p.Bits())
		}
	}
	ps, skips, err := podroutes.NoMasqueradeCIDRs([]podroutes.Node{{PodCIDRs: d.PodCIDRRanges}}, *d.noMasq)
	if err != nil {
		return "", err
	}
	if len(skips) > 0 {
		return "", fmt.Errorf("pod CIDR %s: %s", skips[0].CIDR, skips[0].Reason)
	}
	strs := make([]string, len(ps))
	for i, p := range ps {
		strs[i] = p.String()
	}
	b, err := json.Marshal(strs)
	return string(b), err
}

// parsePodCIDRs parses a comma-separated list of pod CIDRs (a Node's
// spec.podCIDRs joined, or the kubelet's PodCidr) and checks them as
// strictly as the plugins check a pod subnet (netconf.PodSubnetProblem: no
// zero-length prefix, no IPv4-mapped IPv6, nothing overlapping loopback,
// multicast and the like). Host bits are rejected too, which host-local
// would refuse later with a less helpful message. A node has at most one
// range per family, as Kubernetes allocates them.
func parsePodCIDRs(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) > 2 {
		return nil, fmt.Errorf("pod CIDRs %q: a node has at most two ranges (one per family), got %d", s, len(parts))
	}
	var out []string
	families := map[bool]string{}
	for _, part := range parts {
		part = strings.TrimSpace(part)
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("parsing pod CIDR %q: %w", part, err)
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("pod CIDR %q has host bits set (want %s)", part, p.Masked())
		}
		if why := netconf.PodSubnetProblem(p); why != "" {
			return nil, fmt.Errorf("pod CIDR %q: %s", part, why)
		}
		if other, ok := families[p.Addr().Is4()]; ok {
			return nil, fmt.Errorf("pod CIDRs %q and %q are of one family; a node has one range per family", other, part)
		}
		families[p.Addr().Is4()] = part
		out = append(out, p.String())
	}
	return out, nil
}

// renderConflist executes the conflist template for podCIDRs and checks that
// the result is a network config list a runtime will load: JSON with a
// name and at least one plugin.
func renderConflist(text string, podCIDRs []string, noMasq *podroutes.NoMasq) ([]byte, error) {
	tmpl, err := template.New("conflist").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing conflist template: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, templateData{PodCIDR: podCIDRs[0], PodCIDRRanges: podCIDRs, noMasq: noMasq}); err != nil {
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
