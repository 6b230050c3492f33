package sysctl

import "path"

// hostWide are the network sysctls that a network namespace other than the
// host's shows as writable but whose effect is not confined to it. Writing
// one "inside the pod" changes the whole node. Reviewed against Linux 6.18
// by listing the writable files of /proc/sys/net in a fresh namespace and
// reading each one's handler; see the README for how the list is kept.
var hostWide = map[string]string{
	// Flips a static key for every namespace; the kernel refuses to turn
	// it back off.
	"net/netfilter/nf_hooks_lwtunnel": "enables lightweight-tunnel netfilter hooks for the whole node and cannot be turned off again",
}

// hostWideGlobs are patterns (path.Match on the slashed key) of host-wide
// keys that come in families.
var hostWideGlobs = []struct{ pattern, why string }{
	// Naming a logger for a protocol family loads its module on demand:
	// a kernel module is node-wide.
	{"net/netfilter/nf_log/*", "binding a netfilter logger can load a kernel module for the whole node"},
}

// hostOnly are network sysctls that exist only in the host's (initial)
// network namespace: they configure node-wide state, so a pod's namespace
// does not have them and a write there could only fail. Listed so that a
// config naming one is refused up front rather than half-way through ADD.
// Taken from Linux 6.18 by comparing /proc/sys/net of the initial namespace
// with a fresh one (per-interface conf/neigh entries left out).
var hostOnly = []string{
	"net/core/bpf_jit_enable", "net/core/bpf_jit_harden", "net/core/bpf_jit_kallsyms", "net/core/bpf_jit_limit",
	"net/core/busy_poll", "net/core/busy_read", "net/core/default_qdisc", "net/core/dev_weight",
	"net/core/dev_weight_rx_bias", "net/core/dev_weight_tx_bias", "net/core/devconf_inherit_init_net",
	"net/core/fb_tunnels_only_for_init_net", "net/core/flow_limit_cpu_bitmap", "net/core/flow_limit_table_len",
	"net/core/gro_normal_batch", "net/core/high_order_alloc_disable", "net/core/max_skb_frags",
	"net/core/mem_pcpu_rsv", "net/core/message_burst", "net/core/message_cost", "net/core/netdev_budget",
	"net/core/netdev_budget_usecs", "net/core/netdev_max_backlog", "net/core/netdev_tstamp_prequeue",
	"net/core/netdev_unregister_timeout_secs", "net/core/rmem_default", "net/core/rmem_max",
	"net/core/rps_sock_flow_entries", "net/core/skb_defer_max", "net/core/warnings", "net/core/wmem_default",
	"net/core/wmem_max",
	"net/ipv4/cipso_cache_bucket_size", "net/ipv4/cipso_cache_enable", "net/ipv4/cipso_rbm_optfmt",
	"net/ipv4/cipso_rbm_strictvalid", "net/ipv4/fib_sync_mem", "net/ipv4/inet_peer_maxttl",
	"net/ipv4/inet_peer_minttl", "net/ipv4/inet_peer_threshold", "net/ipv4/ipfrag_secret_interval",
	"net/ipv4/route/error_burst", "net/ipv4/route/error_cost", "net/ipv4/route/gc_elasticity",
	"net/ipv4/route/gc_interval", "net/ipv4/route/gc_min_interval", "net/ipv4/route/gc_min_interval_ms",
	"net/ipv4/route/gc_thresh", "net/ipv4/route/gc_timeout", "net/ipv4/route/max_size",
	"net/ipv4/route/redirect_load", "net/ipv4/route/redirect_number", "net/ipv4/route/redirect_silence",
	"net/ipv4/tcp_allowed_congestion_control", "net/ipv4/tcp_low_latency", "net/ipv4/tcp_max_orphans",
	"net/ipv4/tcp_mem", "net/ipv4/udp_mem",
	"net/ipv6/calipso_cache_bucket_size", "net/ipv6/calipso_cache_enable", "net/ipv6/ip6frag_secret_interval",
	"net/ipv6/mld_max_msf", "net/ipv6/mld_qrv",
	"net/netfilter/nf_conntrack_buckets", "net/netfilter/nf_conntrack_expect_max", "net/netfilter/nf_conntrack_max",
	"net/netfilter/nf_log_all_netns", "net/nf_conntrack_max",
}

// ScopeProblem returns why k must not be written in a pod's network
// namespace, or "" when its effect stays there: it is on the reviewed list
// of keys with a node-wide effect, or it exists only in the host's
// namespace. Both plugins refuse such keys in "sysctl", per-pod sysctls and
// literal "inheritSysctls" entries, and leave them out of glob expansions.
func ScopeProblem(k Key) string {
	if why, ok := hostWide[k.path]; ok {
		return "node-wide effect: " + why
	}
	for _, g := range hostWideGlobs {
		if ok, _ := path.Match(g.pattern, k.path); ok {
			return "node-wide effect: " + g.why
		}
	}
	for _, h := range hostOnly {
		if k.path == h {
			return "node-wide setting that exists only in the host's network namespace, not in a pod's"
		}
	}
	return ""
}
