package netconf

import (
	"fmt"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// Limits on what one config or prevResult can make a plugin do. Each list
// is deduplicated first and the limit applies to distinct entries, so a
// config repeating one entry thousands of times costs one entry's work.
// Past a limit the config is refused with code 7 naming the key. The values
// are far above any real network (the README lists them) and keep the
// worst case of one call to milliseconds.
const (
	// MaxSysctls bounds the "sysctl" map.
	MaxSysctls = 256
	// MaxPodSysctls bounds the per-pod sysctls of args.cni and runtimeConfig together.
	MaxPodSysctls = 64
	// MaxInheritPatterns bounds the distinct "inheritSysctls" patterns.
	MaxInheritPatterns = 64
	// MaxAllowedPodSysctls bounds the distinct "allowedPodSysctls" patterns.
	MaxAllowedPodSysctls = 256
	// MaxNoMasqueradeCIDRs bounds the distinct "noMasqueradeCIDRs": each is a rule.
	MaxNoMasqueradeCIDRs = 256
	// MaxSubnets bounds the subnets an IPAM section declares.
	MaxSubnets = 64
	// MaxResultIPs, MaxResultRoutes and MaxResultInterfaces bound a
	// prevResult: CHECK compares each entry with the kernel.
	MaxResultIPs        = 64
	MaxResultRoutes     = 1024
	MaxResultInterfaces = 64
)

// Dedupe returns list without repeated entries, keeping the first of each
// in order. It allocates only when there is a repeat.
func Dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for i, s := range list {
		if seen[s] {
			if out == nil {
				out = append([]string(nil), list[:i]...)
			}
			continue
		}
		seen[s] = true
		if out != nil {
			out = append(out, s)
		}
	}
	if out == nil {
		return list
	}
	return out
}

// CheckCount refuses a list of n distinct entries under key when n is
// above max (code 7 naming the key, the count and the limit).
func CheckCount(key string, n, max int) error {
	if n > max {
		return cnierr.InvalidConfig(key, fmt.Sprintf("%d distinct entries", n), fmt.Sprintf("at most %d are allowed", max))
	}
	return nil
}

// CheckResultBounds refuses a prevResult with more IPs, routes or
// interfaces than any attachment has, before CHECK compares them one by
// one with the kernel. nil is fine.
func CheckResultBounds(res *current.Result) error {
	if res == nil {
		return nil
	}
	for _, b := range []struct {
		key    string
		n, max int
	}{
		{"prevResult.ips", len(res.IPs), MaxResultIPs},
		{"prevResult.routes", len(res.Routes), MaxResultRoutes},
		{"prevResult.interfaces", len(res.Interfaces), MaxResultInterfaces},
	} {
		if b.n > b.max {
			return cnierr.InvalidConfig(b.key, fmt.Sprintf("%d entries", b.n), fmt.Sprintf("at most %d are allowed", b.max))
		}
	}
	return nil
}
