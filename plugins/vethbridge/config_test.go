package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/netconf"
)

// conf builds a config from the minimal valid one plus extra JSON members.
func conf(extra string) []byte {
	base := `"cniVersion": "1.1.0", "name": "net", "type": "vethbridge", "ipam": {"type": "host-local"}`
	if extra != "" {
		base += ", " + extra
	}
	return []byte("{" + base + "}")
}

func TestLoadDefaultsAndKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		args  string
		check func(*Config) bool
	}{
		{"defaults", "", "", func(c *Config) bool {
			return c.Bridge == "cni0" && !c.IsGateway && !c.IPMasq && c.MTU == 0 && c.RPS == nil && c.MAC == nil
		}},
		{"bridge", `"bridge": "br-x"`, "", func(c *Config) bool { return c.Bridge == "br-x" }},
		{"isDefaultGateway implies isGateway", `"isDefaultGateway": true`, "", func(c *Config) bool { return c.IsGateway && c.IsDefaultGateway }},
		{"isGateway", `"isGateway": true`, "", func(c *Config) bool { return c.IsGateway && !c.IsDefaultGateway }},
		{"forceAddress", `"forceAddress": true`, "", func(c *Config) bool { return c.ForceAddress }},
		{"ipMasq", `"ipMasq": true`, "", func(c *Config) bool { return c.IPMasq }},
		{"ipMasqBackend iptables", `"ipMasqBackend": "iptables"`, "", func(c *Config) bool { return c.IPMasqBackend == "iptables" }},
		{"ipMasqBackend nftables", `"ipMasqBackend": "nftables"`, "", func(c *Config) bool { return c.IPMasqBackend == "nftables" }},
		{"ipMasqBackend absent is auto", ``, "", func(c *Config) bool { return c.IPMasqBackend == "" }},
		{"mtu", `"mtu": 9000`, "", func(c *Config) bool { return c.MTU == 9000 }},
		{"hairpinMode", `"hairpinMode": true`, "", func(c *Config) bool { return c.Hairpin }},
		{"promiscMode", `"promiscMode": true`, "", func(c *Config) bool { return c.Promisc }},
		{"vlan", `"vlan": 100`, "", func(c *Config) bool { return c.VLAN == 100 }},
		{"enabledad", `"enabledad": true`, "", func(c *Config) bool { return c.EnableDAD }},
		{"portIsolation", `"portIsolation": true`, "", func(c *Config) bool { return c.PortIsolation }},
		{"macspoofchk false is the default", `"macspoofchk": false`, "", func(c *Config) bool { return true }},
		{"dns", `"dns": {"nameservers": ["10.0.0.10"]}`, "", func(c *Config) bool { return c.DNS.Nameservers[0] == "10.0.0.10" }},
		{"mac from CNI_ARGS", "", "IgnoreUnknown=1;MAC=02:00:00:00:00:09", func(c *Config) bool { return c.MAC.String() == "02:00:00:00:00:09" }},
		{"mac from args.cni wins over CNI_ARGS", `"args": {"cni": {"mac": "02:00:00:00:00:0a"}}`, "MAC=02:00:00:00:00:09",
			func(c *Config) bool { return c.MAC.String() == "02:00:00:00:00:0a" }},
		{"mac from runtimeConfig wins", `"args": {"cni": {"mac": "02:00:00:00:00:0a"}}, "runtimeConfig": {"mac": "02:00:00:00:00:0b"}`, "",
			func(c *Config) bool { return c.MAC.String() == "02:00:00:00:00:0b" }},
		{"kubernetes CNI_ARGS", "", "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u", func(c *Config) bool { return true }},
		{"other args namespaces pass", `"args": {"k8s": {"anything": 1}}`, "", func(c *Config) bool { return true }},
		{"sysctl", `"sysctl": {"net.ipv4.conf.IFNAME.rp_filter": "2"}`, "", func(c *Config) bool { return c.Sysctls.Sysctl["net.ipv4.conf.IFNAME.rp_filter"] == "2" }},
		{"inheritSysctls", `"inheritSysctls": ["net.ipv4.tcp_keepalive_*"]`, "", func(c *Config) bool { return len(c.Sysctls.InheritSysctls) == 1 }},
		{"pod sysctl on the default allowlist", `"args": {"cni": {"sysctl": {"net.ipv4.tcp_keepalive_time": "60"}}}`, "",
			func(c *Config) bool { return c.PodSysctls["net.ipv4.tcp_keepalive_time"] == "60" }},
		{"pod sysctl on the operator's allowlist", `"allowedPodSysctls": ["net.core.*"], "runtimeConfig": {"sysctl": {"net.core.somaxconn": "1024"}}`, "",
			func(c *Config) bool { return c.PodSysctls["net.core.somaxconn"] == "1024" }},
		{"rps all", `"rps": {"cpus": "all"}`, "", func(c *Config) bool { return c.RPS.CPUs.String() == "f" }},
		{"rps list and RFS", `"rps": {"cpus": "0-1,3", "flowCount": 4096, "sockFlowEntries": 32768}`, "",
			func(c *Config) bool {
				return c.RPS.CPUs.String() == "b" && c.RPS.FlowCount == 4096 && c.RPS.SockFlowEntries == 32768
			}},
		{"rps hex mask", `"rps": {"cpus": "3"}`, "", func(c *Config) bool { return c.RPS.CPUs.String() == "3" }},
		{"noMasqueradeCIDRs", `"noMasqueradeCIDRs": ["10.96.0.0/12", "fd00::1/64"]`, "",
			func(c *Config) bool { return len(c.NoMasquerade) == 2 && c.NoMasquerade[1].String() == "fd00::/64" }},
		{"valid attachments", `"cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"}]`, "",
			func(c *Config) bool { return len(c.ValidAttachments) == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(conf(tc.extra), tc.args, 4)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.check(c) {
				t.Errorf("config %+v does not hold what %q sets", c, tc.extra)
			}
		})
	}
}

func TestLoadWithoutIPAMIsL2Only(t *testing.T) {
	c, err := Load([]byte(`{"cniVersion": "1.0.0", "name": "l2", "type": "vethbridge"}`), "", 4)
	if err != nil || c.IPAMType != "" {
		t.Fatalf("Load = %+v, %v; want an L2-only config", c, err)
	}
}

func TestLoadErrorsNameKeyAndValue(t *testing.T) {
	for _, tc := range []struct {
		name, raw, args string
		code            uint
		want            string
	}{
		{"malformed JSON", `{"name": `, "", types.ErrDecodingFailure, "decoding network config"},
		{"unknown key", string(conf(`"bridgee": "x"`)), "", types.ErrUnsupportedField, `"bridgee"`},
		{"ipMasqBackend unknown", string(conf(`"ipMasqBackend": "ebtables"`)), "", types.ErrInvalidNetworkConfig, "ebtables"},
		{"disableContainerInterface with ipam", string(conf(`"disableContainerInterface": true`)), "", types.ErrInvalidNetworkConfig, `"disableContainerInterface" = "true": cannot be used with ipam`},
		{"wrong type", string(conf(`"mtu": "1500"`)), "", types.ErrInvalidNetworkConfig, "mtu"},
		{"bad name", `{"cniVersion": "1.1.0", "name": "bad name", "type": "vethbridge"}`, "", types.ErrInvalidNetworkConfig, `"bad name"`},
		{"unsupported cniVersion", `{"cniVersion": "9.9.9", "name": "n", "type": "vethbridge"}`, "", types.ErrIncompatibleCNIVersion, "9.9.9"},
		{"bridge too long", string(conf(`"bridge": "a-very-long-bridge-name"`)), "", types.ErrInvalidNetworkConfig, "at most 15 bytes"},
		{"bridge with slash", string(conf(`"bridge": "br/0"`)), "", types.ErrInvalidNetworkConfig, `"br/0"`},
		{"bridge with space", string(conf(`"bridge": "br 0"`)), "", types.ErrInvalidNetworkConfig, `"br 0"`},
		{"bridge leading dash", string(conf(`"bridge": "-br"`)), "", types.ErrInvalidNetworkConfig, `"-br"`},
		{"mtu too small", string(conf(`"mtu": 10`)), "", types.ErrInvalidNetworkConfig, "mtu"},
		{"mtu negative", string(conf(`"mtu": -1`)), "", types.ErrInvalidNetworkConfig, "mtu"},
		{"vlan out of range", string(conf(`"vlan": 4095`)), "", types.ErrInvalidNetworkConfig, "vlan"},
		{"bad rps mask", string(conf(`"rps": {"cpus": "zzz"}`)), "", types.ErrInvalidNetworkConfig, `"zzz"`},
		{"rps mask beyond CPU count", string(conf(`"rps": {"cpus": "0-63"}`)), "", types.ErrInvalidNetworkConfig, "rps.cpus"},
		{"rps unknown key", string(conf(`"rps": {"cpu": "all"}`)), "", types.ErrInvalidNetworkConfig, "cpu"},
		{"rps negative flowCount", string(conf(`"rps": {"cpus": "all", "flowCount": -1}`)), "", types.ErrInvalidNetworkConfig, "rps.flowCount"},
		{"sysctl outside net", string(conf(`"sysctl": {"kernel.pid_max": "1"}`)), "", types.ErrInvalidNetworkConfig, "kernel.pid_max"},
		{"sysctl escaping", string(conf(`"sysctl": {"net/../../kernel/pid_max": "1"}`)), "", types.ErrInvalidNetworkConfig, "net/../../kernel/pid_max"},
		{"sysctl value with newline", string(conf(`"sysctl": {"net.ipv4.tcp_keepalive_time": "1\n2"}`)), "", types.ErrInvalidNetworkConfig, "tcp_keepalive_time"},
		{"inherit pattern escaping", string(conf(`"inheritSysctls": ["net/../kernel/*"]`)), "", types.ErrInvalidNetworkConfig, "inheritSysctls"},
		{"pod sysctl not allowed", string(conf(`"args": {"cni": {"sysctl": {"net.core.somaxconn": "1"}}}`)), "", types.ErrInvalidNetworkConfig, "net.core.somaxconn"},
		{"bad noMasqueradeCIDR", string(conf(`"noMasqueradeCIDRs": ["10.0.0.0/33"]`)), "", types.ErrInvalidNetworkConfig, "10.0.0.0/33"},
		{"bad mac", string(conf(`"runtimeConfig": {"mac": "zz"}`)), "", types.ErrInvalidNetworkConfig, `"zz"`},
		{"multicast mac", string(conf(`"runtimeConfig": {"mac": "01:00:00:00:00:01"}`)), "", types.ErrInvalidNetworkConfig, "01:00:00:00:00:01"},
		{"unknown runtimeConfig key", string(conf(`"runtimeConfig": {"bandwidth": {}}`)), "", types.ErrUnsupportedField, "runtimeConfig.bandwidth"},
		{"unknown args.cni key", string(conf(`"args": {"cni": {"ipz": []}}`)), "", types.ErrUnsupportedField, "args.cni.ipz"},
		{"CNI_ARGS unknown key without IgnoreUnknown", string(conf("")), "FOO=bar", types.ErrInvalidEnvironmentVariables, "CNI_ARGS"},
		{"CNI_ARGS garbage", string(conf("")), "a;b;c", types.ErrInvalidEnvironmentVariables, "CNI_ARGS"},
		{"huge config", "{" + strings.Repeat(" ", 2<<20) + "}", "", types.ErrInvalidNetworkConfig, "bytes"},
		// issue 9: names with a meaning downstream, unconfined sysctls, unsafe subnets, unbounded lists
		{"bridge iptables wildcard", string(conf(`"bridge": "+"`)), "", types.ErrInvalidNetworkConfig, `"bridge" = "+"`},
		{"bridge kernel template", string(conf(`"bridge": "rtb%d"`)), "", types.ErrInvalidNetworkConfig, `"rtb%d"`},
		{"bridge named all", string(conf(`"bridge": "all"`)), "", types.ErrInvalidNetworkConfig, `"all"`},
		{"bridge named lo", string(conf(`"bridge": "lo"`)), "", types.ErrInvalidNetworkConfig, `"lo"`},
		{"sysctl with node-wide effect", string(conf(`"sysctl": {"net.netfilter.nf_hooks_lwtunnel": "1"}`)), "", types.ErrInvalidNetworkConfig, "nf_hooks_lwtunnel"},
		{"sysctl only in the host netns", string(conf(`"sysctl": {"net.core.rmem_max": "1"}`)), "", types.ErrInvalidNetworkConfig, "net.core.rmem_max"},
		{"inherit literal with node-wide effect", string(conf(`"inheritSysctls": ["net.netfilter.nf_hooks_lwtunnel"]`)), "", types.ErrInvalidNetworkConfig, "nf_hooks_lwtunnel"},
		{"pod sysctl with node-wide effect", string(conf(`"allowedPodSysctls": ["net.*"], "args": {"cni": {"sysctl": {"net.netfilter.nf_hooks_lwtunnel": "1"}}}`)), "", types.ErrInvalidNetworkConfig, "nf_hooks_lwtunnel"},
		{"ipam subnet whole family", string(conf(`"ipam": {"type": "host-local", "subnet": "0.0.0.0/0"}`)), "", types.ErrInvalidNetworkConfig, `"ipam.subnet" = "0.0.0.0/0"`},
		{"ipam range whole v6 family", string(conf(`"ipam": {"type": "host-local", "ranges": [[{"subnet": "::/0"}]]}`)), "", types.ErrInvalidNetworkConfig, "ipam.ranges[0][0].subnet"},
		{"ipam subnet mapped", string(conf(`"ipam": {"type": "host-local", "subnet": "::ffff:10.0.0.0/104"}`)), "", types.ErrInvalidNetworkConfig, "IPv4-mapped"},
		{"ipam subnet loopback", string(conf(`"ipam": {"type": "host-local", "subnet": "127.0.0.0/8"}`)), "", types.ErrInvalidNetworkConfig, "loopback"},
		{"noMasqueradeCIDRs over the limit", string(conf(`"noMasqueradeCIDRs": [` + manyCIDRs(netconf.MaxNoMasqueradeCIDRs+1) + `]`)), "", types.ErrInvalidNetworkConfig, "noMasqueradeCIDRs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.raw), tc.args, 4)
			var te *types.Error
			if !errors.As(err, &te) {
				t.Fatalf("Load error = %v, want a CNI error", err)
			}
			if te.Code != tc.code || !strings.Contains(te.Msg, tc.want) {
				t.Errorf("Load error = code %d %q, want code %d naming %q", te.Code, te.Msg, tc.code, tc.want)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(conf(`"rps": {"cpus": "0-3"}, "sysctl": {"net.ipv4.conf.IFNAME.rp_filter": "1"}`), "IgnoreUnknown=1")
	f.Add(conf(`"noMasqueradeCIDRs": ["10.0.0.0/8"], "args": {"cni": {"mac": "02:00:00:00:00:01"}}`), "")
	f.Add([]byte(`{"name": "x"`), "MAC=1")
	f.Fuzz(func(t *testing.T, raw []byte, args string) {
		c, err := Load(raw, args, 8)
		if err == nil && (c.Bridge == "" || c.Network == "") {
			t.Fatalf("accepted config without bridge or name: %+v", c)
		}
		var te *types.Error
		if err != nil && !errors.As(err, &te) {
			t.Fatalf("error %v is not a CNI error", err)
		}
	})
}

// manyCIDRs is n distinct /32s as JSON strings.
func manyCIDRs(n int) string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf(`"10.%d.%d.1/32"`, i/256, i%256))
	}
	return strings.Join(out, ",")
}
