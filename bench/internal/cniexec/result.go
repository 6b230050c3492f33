package cniexec

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// PluginError is a CNI error object a plugin printed on stdout.
type PluginError struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	Details string `json:"details"`
}

func (e *PluginError) Error() string {
	if e.Details != "" {
		return fmt.Sprintf("CNI error %d: %s: %s", e.Code, e.Msg, e.Details)
	}
	return fmt.Sprintf("CNI error %d: %s", e.Code, e.Msg)
}

// ParseError returns the CNI error object in out, or nil when out holds
// none (a crash can leave stdout empty or unparsable).
func ParseError(out []byte) *PluginError {
	var e PluginError
	if json.Unmarshal(out, &e) != nil || (e.Code == 0 && e.Msg == "") {
		return nil
	}
	return &e
}

// ResultIPs returns the addresses of a CNI 1.x ADD result.
func ResultIPs(out []byte) ([]netip.Prefix, error) {
	var r struct {
		IPs []struct {
			Address string `json:"address"`
		} `json:"ips"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("decoding CNI result: %w", err)
	}
	var ips []netip.Prefix
	for _, ip := range r.IPs {
		p, err := netip.ParsePrefix(ip.Address)
		if err != nil {
			return nil, fmt.Errorf("decoding CNI result address %q: %w", ip.Address, err)
		}
		ips = append(ips, p)
	}
	return ips, nil
}

// Duplicates returns the addresses that occur more than once across
// results, each listed once, in first-seen order.
func Duplicates(results [][]netip.Prefix) []netip.Addr {
	seen := map[netip.Addr]int{}
	var dups []netip.Addr
	for _, r := range results {
		for _, p := range r {
			seen[p.Addr()]++
			if seen[p.Addr()] == 2 {
				dups = append(dups, p.Addr())
			}
		}
	}
	return dups
}
