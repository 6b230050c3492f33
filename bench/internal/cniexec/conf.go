// Package cniexec calls CNI plugin binaries directly, the way a runtime's
// libcni does: network config on stdin, CNI_* variables in the
// environment, result or error JSON on stdout. Building configs and
// reading results is pure; Plugin.Exec is the one place that runs a binary.
package cniexec

import (
	"encoding/json"
	"fmt"
	"maps"
)

// Network is the benchmark's bridge network. Both plugins get the same
// shape; only Type and Extra (keys only our plugin knows) differ.
type Network struct {
	Name       string
	CNIVersion string
	Type       string
	Bridge     string
	Subnet     string
	DataDir    string         // host-local's dataDir, one per side and scenario
	Extra      map[string]any // added to the plugin object, e.g. "rps"
}

// Plugin returns the plugin object of the conflist.
func (n Network) Plugin() map[string]any {
	p := map[string]any{
		"type":      n.Type,
		"bridge":    n.Bridge,
		"isGateway": true,
		"ipMasq":    true,
		"ipam": map[string]any{
			"type":    "host-local",
			"subnet":  n.Subnet,
			"dataDir": n.DataDir,
		},
	}
	maps.Copy(p, n.Extra)
	return p
}

// Conflist returns the network as a conflist, indented, for the record.
func (n Network) Conflist() ([]byte, error) {
	b, err := json.MarshalIndent(map[string]any{
		"cniVersion": n.CNIVersion,
		"name":       n.Name,
		"plugins":    []any{n.Plugin()},
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding conflist %s: %w", n.Name, err)
	}
	return b, nil
}

// Stdin returns what libcni writes to the plugin's stdin for this network:
// the plugin object plus name and cniVersion, and prevResult when given
// (DEL and CHECK get the ADD result, as runtimes pass it from their cache).
func (n Network) Stdin(prevResult json.RawMessage) ([]byte, error) {
	p := n.Plugin()
	p["name"] = n.Name
	p["cniVersion"] = n.CNIVersion
	if len(prevResult) > 0 {
		p["prevResult"] = prevResult
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding stdin config for network %s: %w", n.Name, err)
	}
	return b, nil
}
