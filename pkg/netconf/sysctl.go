package netconf

import (
	"fmt"
	"path"
	"sort"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// SysctlConf is the container-sysctl part of both plugins' configs.
type SysctlConf struct {
	// Sysctl maps net.* keys to values written in the container netns at ADD.
	Sysctl map[string]string `json:"sysctl,omitempty"`
	// InheritSysctls lists host keys (globs in the last segment) whose
	// current host values are copied into the container netns.
	InheritSysctls []string `json:"inheritSysctls,omitempty"`
	// AllowedPodSysctls limits what a pod may set through args.cni.sysctl or
	// runtimeConfig.sysctl (globs). Nil means DefaultPodSysctls and the
	// kernel-gated entries (podsysctl_kernel.go).
	AllowedPodSysctls []string `json:"allowedPodSysctls,omitempty"`
}

// DefaultPodSysctls are Kubernetes' "safe" network sysctls: the ones a pod
// may set without the node allowing unsafe sysctls.
var DefaultPodSysctls = []string{
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ping_group_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
}

// Setting is one resolved key and value (pkg/sysctl writes it).
type Setting = sysctl.Setting

// Validate checks every key, pattern and value, and the pod's overrides
// against the allowlist, without touching the host.
func (c SysctlConf) Validate(ifname string, pod map[string]string) error {
	if err := c.checkCounts(pod); err != nil {
		return err
	}
	_, err := c.explicit(ifname, pod)
	if err != nil {
		return err
	}
	for _, p := range Dedupe(c.InheritSysctls) {
		k, err := sysctl.ParseKey(p, ifname)
		if err != nil {
			return cnierr.InvalidConfig("inheritSysctls", p, err.Error())
		}
		if why := sysctl.ScopeProblem(k); why != "" && !sysctl.IsPattern(p) {
			return cnierr.InvalidConfig("inheritSysctls", p, why)
		}
	}
	for _, p := range Dedupe(c.AllowedPodSysctls) {
		if _, err := path.Match(p, ""); err != nil {
			return cnierr.InvalidConfig("allowedPodSysctls", p, err.Error())
		}
	}
	return nil
}

// Resolve returns what ADD writes into the container netns: the inherited
// host values first, then the config's own entries, then the pod's
// (allowlisted) overrides, so an explicit value wins over an inherited one.
// host is read for the inherited keys and the node's kernel release only.
func (c SysctlConf) Resolve(host sysctl.FS, ifname string, pod map[string]string) ([]Setting, error) {
	if err := c.gatePodSysctls(host, pod); err != nil {
		return nil, err
	}
	var out []Setting
	seen := map[sysctl.Key]int{}
	add := func(s Setting) {
		if i, ok := seen[s.Key]; ok {
			out[i] = s
			return
		}
		seen[s.Key] = len(out)
		out = append(out, s)
	}
	if len(c.InheritSysctls) > 0 {
		inherited, err := sysctl.Inherit(host, c.InheritSysctls, ifname)
		if err != nil {
			// A pattern the host cannot satisfy is the config's fault.
			return nil, cnierr.InvalidConfig("inheritSysctls", fmt.Sprint(c.InheritSysctls), err.Error())
		}
		literal := c.literalInherits(ifname)
		for _, k := range sysctl.SortedKeys(inherited) {
			add(Setting{Key: k, Value: inherited[k], FromGlob: !literal[k]})
		}
	}
	explicit, err := c.explicit(ifname, pod)
	if err != nil {
		return nil, err
	}
	for _, s := range explicit {
		add(s)
	}
	return out, nil
}

// literalInherits are the keys inheritSysctls names without a wildcard:
// those must be written, and ADD fails when the pod's netns cannot take
// one; the keys only a glob chose are skipped then (Setting.FromGlob).
func (c SysctlConf) literalInherits(ifname string) map[sysctl.Key]bool {
	out := map[sysctl.Key]bool{}
	for _, p := range c.InheritSysctls {
		if sysctl.IsPattern(p) {
			continue
		}
		if k, err := sysctl.ParseKey(p, ifname); err == nil {
			out[k] = true
		}
	}
	return out
}

// explicit validates the config's and the pod's sysctl maps, in key order.
func (c SysctlConf) explicit(ifname string, pod map[string]string) ([]Setting, error) {
	own, err := parseMap("sysctl", c.Sysctl, ifname)
	if err != nil {
		return nil, err
	}
	podSettings, err := parseMap("args.cni.sysctl", pod, ifname)
	if err != nil {
		return nil, err
	}
	allowed := c.AllowedPodSysctls
	if allowed == nil {
		allowed = defaultPodAllowlist()
	}
	for _, s := range podSettings {
		if !matchAny(allowed, s.Key.String()) {
			return nil, cnierr.InvalidConfig("args.cni.sysctl", s.Key.String(),
				"not in allowedPodSysctls (the operator's allowlist for per-pod sysctls)")
		}
	}
	return append(own, podSettings...), nil
}

func parseMap(field string, m map[string]string, ifname string) ([]Setting, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]Setting, 0, len(m))
	for _, name := range names {
		k, err := sysctl.ParseKey(name, ifname)
		if err != nil {
			return nil, cnierr.InvalidConfig(field, name, err.Error())
		}
		if why := sysctl.ScopeProblem(k); why != "" {
			return nil, cnierr.InvalidConfig(field, name, why)
		}
		if err := sysctl.ValidateValue(m[name]); err != nil {
			return nil, cnierr.InvalidConfig(field+"."+name, m[name], err.Error())
		}
		out = append(out, Setting{Key: k, Value: m[name]})
	}
	return out, nil
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// checkCounts bounds each sysctl list (see bounds.go), counting distinct
// entries.
func (c SysctlConf) checkCounts(pod map[string]string) error {
	for _, b := range []struct {
		key    string
		n, max int
	}{
		{"sysctl", len(c.Sysctl), MaxSysctls},
		{"args.cni.sysctl", len(pod), MaxPodSysctls},
		{"inheritSysctls", len(Dedupe(c.InheritSysctls)), MaxInheritPatterns},
		{"allowedPodSysctls", len(Dedupe(c.AllowedPodSysctls)), MaxAllowedPodSysctls},
	} {
		if err := CheckCount(b.key, b.n, b.max); err != nil {
			return err
		}
	}
	return nil
}
