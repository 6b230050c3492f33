package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

// conf builds a config from the minimal valid one plus extra top-level
// JSON members.
func conf(extra string) []byte {
	base := `{"cniVersion": "1.1.0", "name": "net1", "type": "ipvlan", "ipam": {"type": "host-local"}`
	if extra != "" {
		base += ", " + extra
	}
	return []byte(base + "}")
}

func TestLoadAcceptsEveryKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		check func(c *Config) string // what is wrong, or ""
	}{
		{"defaults", "", func(c *Config) string {
			if c.Master != "" || c.Mode != ModeL2 || c.Flag != FlagBridge || c.MTU != 0 || c.LinkInContainer {
				return fmt.Sprintf("defaults = %+v", c)
			}
			return ""
		}},
		{"master", `"master": "eth0.100"`, func(c *Config) string { return want(c.Master, "eth0.100") }},
		{"mode l2", `"mode": "l2"`, func(c *Config) string { return want(c.Mode, ModeL2) }},
		{"mode l3", `"mode": "l3"`, func(c *Config) string { return want(c.Mode, ModeL3) }},
		{"mode l3s", `"mode": "l3s"`, func(c *Config) string { return want(c.Mode, ModeL3S) }},
		{"flag bridge", `"flag": "bridge"`, func(c *Config) string { return want(c.Flag, FlagBridge) }},
		{"flag private", `"flag": "private"`, func(c *Config) string { return want(c.Flag, FlagPrivate) }},
		{"flag vepa", `"flag": "vepa"`, func(c *Config) string { return want(c.Flag, FlagVEPA) }},
		{"mtu", `"mtu": 1400`, func(c *Config) string { return want(c.MTU, 1400) }},
		{"mtu zero", `"mtu": 0`, func(c *Config) string { return want(c.MTU, 0) }},
		{"linkInContainer", `"linkInContainer": true`, func(c *Config) string { return want(c.LinkInContainer, true) }},
		{"ipam", "", func(c *Config) string { return want(c.IPAMType, "host-local") }},
		{"dns", `"dns": {"nameservers": ["10.0.0.10"]}`, func(c *Config) string { return want(fmt.Sprint(c.DNS.Nameservers), "[10.0.0.10]") }},
		{"sysctl", `"sysctl": {"net.ipv4.conf.IFNAME.rp_filter": "0"}`, func(c *Config) string {
			return want(c.Sysctls.Sysctl["net.ipv4.conf.IFNAME.rp_filter"], "0")
		}},
		{"inheritSysctls", `"inheritSysctls": ["net.ipv4.tcp_keepalive_*"]`, func(c *Config) string {
			return want(fmt.Sprint(c.Sysctls.InheritSysctls), "[net.ipv4.tcp_keepalive_*]")
		}},
		{"allowedPodSysctls", `"allowedPodSysctls": ["net.core.somaxconn"], "args": {"cni": {"sysctl": {"net.core.somaxconn": "4096"}}}`, func(c *Config) string {
			return want(c.PodSysctls["net.core.somaxconn"], "4096")
		}},
		{"pod sysctl from the default allowlist", `"runtimeConfig": {"sysctl": {"net.ipv4.tcp_keepalive_time": "60"}}`, func(c *Config) string {
			return want(c.PodSysctls["net.ipv4.tcp_keepalive_time"], "60")
		}},
		{"runtimeConfig wins over args.cni", `"args": {"cni": {"sysctl": {"net.ipv4.tcp_fin_timeout": "10"}}}, "runtimeConfig": {"sysctl": {"net.ipv4.tcp_fin_timeout": "20"}}`, func(c *Config) string {
			return want(c.PodSysctls["net.ipv4.tcp_fin_timeout"], "20")
		}},
		{"per-pod ips are IPAM's", `"runtimeConfig": {"ips": ["10.1.0.5/24"]}, "args": {"cni": {"ips": ["10.1.0.5"]}, "other": {"x": 1}}`, nil},
		{"prevResult", `"prevResult": {"cniVersion": "1.1.0", "interfaces": [{"name": "eth0"}], "ips": [{"address": "10.1.0.5/24", "interface": 0}]}`, func(c *Config) string {
			if c.PrevResult == nil || len(c.PrevResult.IPs) != 1 {
				return fmt.Sprintf("prevResult = %+v", c.PrevResult)
			}
			return ""
		}},
		{"valid attachments", `"cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"}]`, func(c *Config) string {
			return want(len(c.ValidAttachments), 1)
		}},
		{"valid attachments, libcni's old name", `"cni.dev/attachments": [{"containerID": "a", "ifname": "eth0"}]`, nil},
		{"capabilities", `"capabilities": {"ips": true}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(conf(tc.extra), "IgnoreUnknown=1;K8S_POD_NAME=p")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.check != nil {
				if msg := tc.check(c); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

func want[T comparable](got, w T) string {
	if got != w {
		return fmt.Sprintf("got %v, want %v", got, w)
	}
	return ""
}

func TestLoadVersions(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"0.3.0", true}, {"0.3.1", true}, {"0.4.0", true}, {"1.0.0", true}, {"1.1.0", true},
		{"", false}, {"0.1.0", false}, {"0.2.0", false}, {"2.0.0", false},
	} {
		t.Run(tc.version, func(t *testing.T) {
			raw := strings.Replace(string(conf("")), `"1.1.0"`, `"`+tc.version+`"`, 1)
			_, err := Load([]byte(raw), "")
			if tc.ok && err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.ok && codeOf(err) != types.ErrIncompatibleCNIVersion {
				t.Fatalf("Load error = %v, want code 1", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		raw      []byte
		envArgs  string
		wantCode uint
		want     string
	}{
		{"unknown key", conf(`"vlan": 5`), "", 2, `"vlan"`},
		{"upstream macvlan key", conf(`"promiscMode": true`), "", 2, `"promiscMode"`},
		{"per-pod mac", conf(`"runtimeConfig": {"mac": "02:00:00:00:00:01"}`), "", 2, `"runtimeConfig.mac"`},
		{"per-pod unknown in args.cni", conf(`"args": {"cni": {"bandwidth": {}}}`), "", 2, `"args.cni.bandwidth"`},
		{"bad mode", conf(`"mode": "l4"`), "", 7, `"mode" = "l4"`},
		{"mode in capitals", conf(`"mode": "L2"`), "", 7, `"mode"`},
		{"bad flag", conf(`"flag": "passthru"`), "", 7, `"flag" = "passthru"`},
		{"negative mtu", conf(`"mtu": -1`), "", 7, `"mtu" = "-1"`},
		{"mtu below IPv4 minimum", conf(`"mtu": 67`), "", 7, `"mtu" = "67"`},
		{"mtu too big", conf(`"mtu": 65536`), "", 7, `"mtu" = "65536"`},
		{"mtu as string", conf(`"mtu": "1500"`), "", 7, `"mtu"`},
		{"linkInContainer as string", conf(`"linkInContainer": "yes"`), "", 7, `"linkInContainer"`},
		{"master too long", conf(`"master": "a-sixteen-bytes!"`), "", 7, `"master"`},
		{"master with slash", conf(`"master": "eth/0"`), "", 7, `"master"`},
		{"master iptables wildcard", conf(`"master": "eth+"`), "", 7, `"master" = "eth+"`},
		{"master kernel template", conf(`"master": "eth%d"`), "", 7, `"eth%d"`},
		{"master lo", conf(`"master": "lo"`), "", 7, `"master" = "lo"`},
		{"master default", conf(`"master": "default"`), "", 7, `"default"`},
		{"sysctl with node-wide effect", conf(`"sysctl": {"net.netfilter.nf_hooks_lwtunnel": "1"}`), "", 7, "nf_hooks_lwtunnel"},
		{"sysctl only in the host netns", conf(`"sysctl": {"net.ipv4.tcp_mem": "1 2 3"}`), "", 7, "net.ipv4.tcp_mem"},
		{"ipam subnet whole family", conf(`"ipam": {"type": "host-local", "subnet": "0.0.0.0/0"}`), "", 7, `"ipam.subnet" = "0.0.0.0/0"`},
		{"ipam subnet mapped", conf(`"ipam": {"type": "host-local", "ranges": [[{"subnet": "::ffff:0:0/96"}]]}`), "", 7, "IPv4-mapped"},
		{"bad network name", []byte(`{"cniVersion": "1.1.0", "name": "bad name", "type": "ipvlan"}`), "", 7, `"name"`},
		{"sysctl outside net", conf(`"sysctl": {"kernel.panic": "1"}`), "", 7, `"sysctl"`},
		{"sysctl with ..", conf(`"sysctl": {"net/ipv4/../../kernel/panic": "1"}`), "", 7, `"sysctl"`},
		{"sysctl value with newline", conf(`"sysctl": {"net.ipv4.tcp_keepalive_time": "1\n2"}`), "", 7, "net.ipv4.tcp_keepalive_time"},
		{"bad inheritSysctls", conf(`"inheritSysctls": ["vm.swappiness"]`), "", 7, `"inheritSysctls"`},
		{"bad allowedPodSysctls glob", conf(`"allowedPodSysctls": ["net.core.["]`), "", 7, `"allowedPodSysctls"`},
		{"pod sysctl not allowed", conf(`"runtimeConfig": {"sysctl": {"net.core.somaxconn": "1"}}`), "", 7, "allowedPodSysctls"},
		{"args not an object", conf(`"args": 5`), "", 7, `"args"`},
		{"malformed prevResult", conf(`"prevResult": {"cniVersion": "1.1.0", "ips": [{"address": "nope"}]}`), "", 7, `"prevResult"`},
		{"bad CNI_ARGS", conf(""), "K8S_POD_NAME", 4, "CNI_ARGS"},
		{"not JSON", []byte(`{"cniVersion":`), "", types.ErrDecodingFailure, "decoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.raw, tc.envArgs)
			if codeOf(err) != tc.wantCode || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v (code %d), want code %d naming %s", err, codeOf(err), tc.wantCode, tc.want)
			}
		})
	}
}

// FuzzLoad: any stdin and CNI_ARGS either load into a config whose
// derived values are usable (a name, a known mode and flag) or are
// refused with a CNI error; never a panic or a plain error.
func FuzzLoad(f *testing.F) {
	f.Add(conf(`"master": "eth0", "mode": "l3s", "flag": "vepa", "mtu": 1400`), "IgnoreUnknown=1")
	f.Add(conf(`"linkInContainer": true, "runtimeConfig": {"sysctl": {"net.ipv4.conf.IFNAME.arp_ignore": "1"}}`), "")
	f.Add(conf(`"prevResult": {"cniVersion": "0.4.0", "interfaces": [{"name": "eth0"}]}`), "K8S_POD_NAME=a")
	f.Add([]byte(`{"cniVersion": "1.1.0", "name": "x", "mode": "l9"}`), "bad")
	f.Fuzz(func(t *testing.T, raw []byte, args string) {
		c, err := Load(raw, args)
		if err != nil {
			var te *types.Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a CNI error", err)
			}
			return
		}
		if c.Network == "" || !slices.Contains([]Mode{ModeL2, ModeL3, ModeL3S}, c.Mode) ||
			!slices.Contains([]Flag{FlagBridge, FlagPrivate, FlagVEPA}, c.Flag) {
			t.Fatalf("accepted an unusable config: %+v", c)
		}
	})
}
