package vm

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Mode says where the test binary runs, from NETSTEER_VM.
type Mode string

const (
	ModeAuto   Mode = "auto"   // natively if the host kernel has ipvlan, else in a VM
	ModeAlways Mode = "always" // always in a VM
	ModeNever  Mode = "never"  // always natively
)

// HostConfig is the harness configuration read from the host environment.
type HostConfig struct {
	Mode     Mode
	Timeout  time.Duration // NETSTEER_VM_TIMEOUT: kill the VM after this long
	CacheDir string        // NETSTEER_CACHE + "/vm": fetched kernels
	// Files lists host files and directories copied into the guest at the
	// same absolute paths (NETSTEER_VM_FILES, colon-separated).
	Files []string
	// ExtraModules are loaded in the guest besides DefaultModules()
	// (NETSTEER_VM_MODULES, comma-separated).
	ExtraModules []string
	// Verbose prints where the time goes (NETSTEER_VM_VERBOSE=1).
	Verbose bool
}

// Defaults for HostConfig fields whose variables are unset.
const (
	DefaultTimeout  = 10 * time.Minute
	DefaultCacheDir = "/var/cache/netsteer"
)

// DefaultModules returns the modules loaded in every guest. The guest cannot autoload
// modules, so this covers what the plugins and their tests touch: link
// types, bridge netfilter, iptables over nf_tables and legacy, NAT and the
// xt matches our rules and portmap use. xfrm_user is here because
// netlink.NewHandleAt without a protocol list needs it.
func DefaultModules() []string {
	return []string{
		"ipvlan", "dummy", "veth", "macvlan", "8021q", "bridge", "br_netfilter",
		"nfnetlink", "nf_tables", "nft_compat", "nft_chain_nat", "nf_conntrack", "nf_nat",
		"x_tables", "xt_MASQUERADE", "xt_comment", "xt_conntrack", "xt_addrtype",
		"xt_multiport", "xt_mark", "xt_nat", "ipt_REJECT", "ip6t_REJECT",
		"nft_ct", "nft_masq", // vethbridge's nftables backend (ct state/status, masquerade)
		"nft_meta_bridge", // macspoofchk: meta iifname in the bridge family
		"ip_tables", "iptable_nat", "iptable_filter",
		"ip6_tables", "ip6table_nat", "ip6table_filter",
		"xfrm_user",
	}
}

// ParseHostConfig reads the harness's variables through getenv (os.Getenv
// in production). An unknown NETSTEER_VM value or an unparsable timeout is
// an error naming the variable, never a silent default.
func ParseHostConfig(getenv func(string) string) (HostConfig, error) {
	c := HostConfig{Mode: ModeAuto, Timeout: DefaultTimeout, CacheDir: filepath.Join(DefaultCacheDir, "vm")}
	switch m := Mode(getenv("NETSTEER_VM")); m {
	case "":
	case ModeAuto, ModeAlways, ModeNever:
		c.Mode = m
	default:
		return HostConfig{}, fmt.Errorf("parsing NETSTEER_VM: %q is not auto, always or never", m)
	}
	if s := getenv("NETSTEER_VM_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return HostConfig{}, fmt.Errorf("parsing NETSTEER_VM_TIMEOUT: %q is not a positive duration", s)
		}
		c.Timeout = d
	}
	if s := getenv("NETSTEER_CACHE"); s != "" {
		c.CacheDir = filepath.Join(s, "vm")
	}
	for _, f := range splitNonEmpty(getenv("NETSTEER_VM_FILES"), ":") {
		if !filepath.IsAbs(f) {
			return HostConfig{}, fmt.Errorf("parsing NETSTEER_VM_FILES: %q is not an absolute path", f)
		}
		c.Files = append(c.Files, filepath.Clean(f))
	}
	c.ExtraModules = splitNonEmpty(getenv("NETSTEER_VM_MODULES"), ",")
	c.Verbose = getenv("NETSTEER_VM_VERBOSE") == "1"
	return c, nil
}

func splitNonEmpty(s, sep string) []string {
	var out []string
	for _, f := range strings.Split(s, sep) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// guestPATH covers where Debian keeps iproute2 and iptables.
const guestPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// GuestEnv returns the environment of the test inside the guest: a fixed
// base, NETSTEER_IN_VM=1 so tests can tell where they run, and the host
// variables a test or plugin may read (NETSTEER_*, CNI_*, GODEBUG,
// GOTRACEBACK). Everything else of the host (HOME, TMPDIR, proxies) would
// point at things the guest does not have.
func GuestEnv(host []string) []string {
	env := []string{"PATH=" + guestPATH, "HOME=/root", "NETSTEER_IN_VM=1"}
	for _, kv := range host {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "NETSTEER_IN_VM":
		case strings.HasPrefix(name, "NETSTEER_"), strings.HasPrefix(name, "CNI_"),
			name == "GODEBUG", name == "GOTRACEBACK":
			env = append(env, kv)
		}
	}
	return env
}
