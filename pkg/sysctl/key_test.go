package sysctl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseKeyAccepts(t *testing.T) {
	tests := []struct {
		in, ifname string
		path       string // want Path()
		str        string // want String()
	}{
		{in: "net.ipv4.tcp_keepalive_time", path: "net/ipv4/tcp_keepalive_time", str: "net.ipv4.tcp_keepalive_time"},
		{in: "net/ipv4/tcp_keepalive_time", path: "net/ipv4/tcp_keepalive_time", str: "net.ipv4.tcp_keepalive_time"},
		{in: "net.core.somaxconn", path: "net/core/somaxconn", str: "net.core.somaxconn"},
		{in: "net.unix", path: "net/unix", str: "net.unix"},
		{in: "net.ipv4.conf.eth0.rp_filter", path: "net/ipv4/conf/eth0/rp_filter", str: "net.ipv4.conf.eth0.rp_filter"},
		{in: "net.ipv4.conf.eth0.100.rp_filter", path: "net/ipv4/conf/eth0.100/rp_filter", str: "net/ipv4/conf/eth0.100/rp_filter"},
		{in: "net.ipv6.conf.bond0.10.20.accept_ra", path: "net/ipv6/conf/bond0.10.20/accept_ra", str: "net/ipv6/conf/bond0.10.20/accept_ra"},
		{in: "net.ipv4.neigh.eth0.100.base_reachable_time_ms", path: "net/ipv4/neigh/eth0.100/base_reachable_time_ms", str: "net/ipv4/neigh/eth0.100/base_reachable_time_ms"},
		{in: "net.ipv6.neigh.eth0.100.gc_stale_time", path: "net/ipv6/neigh/eth0.100/gc_stale_time", str: "net/ipv6/neigh/eth0.100/gc_stale_time"},
		{in: "net/ipv4/conf/eth0.100/rp_filter", path: "net/ipv4/conf/eth0.100/rp_filter", str: "net/ipv4/conf/eth0.100/rp_filter"},
		// Only the per-interface trees join dotted parts into one segment.
		{in: "net.netfilter.nf_conntrack_max", path: "net/netfilter/nf_conntrack_max", str: "net.netfilter.nf_conntrack_max"},
		{in: "net.ipv4.route.gc.timeout", path: "net/ipv4/route/gc/timeout", str: "net.ipv4.route.gc.timeout"},
		// A slashed key that the dotted reading would misparse keeps the slashed form.
		{in: "net/ipv4/conf/a/b/c", path: "net/ipv4/conf/a/b/c", str: "net/ipv4/conf/a/b/c"},
		{in: "net.ipv4.conf.all", path: "net/ipv4/conf/all", str: "net.ipv4.conf.all"},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "eth0", path: "net/ipv4/conf/eth0/rp_filter", str: "net.ipv4.conf.eth0.rp_filter"},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "eth0.100", path: "net/ipv4/conf/eth0.100/rp_filter", str: "net/ipv4/conf/eth0.100/rp_filter"},
		{in: "net/ipv6/conf/IFNAME/disable_ipv6", ifname: "vlan.7", path: "net/ipv6/conf/vlan.7/disable_ipv6", str: "net/ipv6/conf/vlan.7/disable_ipv6"},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "very-long-name1", path: "net/ipv4/conf/very-long-name1/rp_filter", str: "net.ipv4.conf.very-long-name1.rp_filter"},
		// ifname is only used where IFNAME appears.
		{in: "net.ipv4.ip_forward", ifname: "eth0", path: "net/ipv4/ip_forward", str: "net.ipv4.ip_forward"},
		// Glob characters are ordinary here; FS.Glob gives them meaning.
		{in: "net.ipv4.tcp_keepalive_*", path: "net/ipv4/tcp_keepalive_*", str: "net.ipv4.tcp_keepalive_*"},
		{in: "net.ipv4.conf.eth0.100.*", path: "net/ipv4/conf/eth0.100/*", str: "net/ipv4/conf/eth0.100/*"},
		{in: "net.ipv4.conf.ethé.rp_filter", path: "net/ipv4/conf/ethé/rp_filter", str: "net.ipv4.conf.ethé.rp_filter"},
		{in: "net." + strings.Repeat("a", MaxKeyLen-4), path: "net/" + strings.Repeat("a", MaxKeyLen-4), str: "net." + strings.Repeat("a", MaxKeyLen-4)},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/ifname="+tt.ifname, func(t *testing.T) {
			k, err := ParseKey(tt.in, tt.ifname)
			if err != nil {
				t.Fatalf("ParseKey(%q, %q): %v", tt.in, tt.ifname, err)
			}
			if got := k.Path(); got != tt.path {
				t.Errorf("Path() = %q, want %q", got, tt.path)
			}
			if got := k.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			again, err := ParseKey(k.String(), tt.ifname)
			if err != nil || again != k {
				t.Errorf("ParseKey(String()=%q) = %q, %v; want %q", k.String(), again.Path(), err, k.Path())
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	tests := []struct {
		in, ifname string
		reason     string // substring of KeyError.Reason
	}{
		{in: "", reason: "empty name"},
		{in: "kernel.pid_max", reason: "must start with net"},
		{in: "kernel/pid_max", reason: "must start with net"},
		{in: "vm.swappiness", reason: "must start with net"},
		{in: "network.x", reason: "must start with net"},
		{in: "net", reason: "at least two segments"},
		{in: "/proc/sys/net/ipv4/ip_forward", reason: "absolute path"},
		{in: "/net/ipv4/ip_forward", reason: "absolute path"},
		{in: "net/../kernel/pid_max", reason: `contains ".."`},
		{in: "net/ipv4/../../kernel", reason: `contains ".."`},
		{in: "../net/ipv4", reason: `contains ".."`},
		{in: "net/./ipv4", reason: `segment "."`},
		{in: "net/ipv4/", reason: "empty"},
		{in: "net//ipv4", reason: "empty"},
		{in: "net..ipv4", reason: "empty"},
		{in: "net.ipv4.", reason: "empty"},
		{in: ".net.ipv4", reason: "empty"},
		{in: "net.ipv4.conf..rp_filter", reason: "empty"},
		{in: "net.ipv4.conf.eth0..100.rp_filter", reason: "empty"},
		{in: "net/ipv4/conf/eth0..100/rp_filter", reason: `contains ".."`},
		{in: "net/ipv4/conf/...", reason: `contains ".."`},
		{in: "net.ipv4.conf%2f..%2f..%2fkernel", reason: `contains "%"`},
		{in: "net%2fipv4", reason: `contains "%"`},
		{in: "net.ipv4.ip forward", reason: "whitespace"},
		{in: " net.ipv4.ip_forward", reason: "whitespace"},
		{in: "net.ipv4.ip_forward ", reason: "whitespace"},
		{in: "net.ipv4.ip_forward\n", reason: "whitespace"},
		{in: "net.ipv4.ip\tforward", reason: "whitespace"},
		{in: "net.ipv4.ip\u00a0forward", reason: "whitespace"},
		{in: "net.ipv4.ip\x00forward", reason: "NUL"},
		{in: "net.ipv4.ip\x7fforward", reason: "control character"},
		{in: "net.ipv4.ip\xffforward", reason: "invalid UTF-8"},
		{in: "net." + strings.Repeat("a", MaxKeyLen-3), reason: "longer than 256 bytes"},
		{in: "net.ipv4.conf.IFNAME.rp_filter", reason: "no interface name"},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "../../kernel", reason: `contains ".."`},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "a/b", reason: `contains "/"`},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "..", reason: `contains ".."`},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "a b", reason: "whitespace"},
		{in: "net.ipv4.conf.IFNAME.rp_filter", ifname: "sixteen-bytes-xx", reason: "longer than 15 bytes"},
		{in: "IFNAME.ipv4", ifname: "kernel", reason: "must start with net"},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/ifname="+tt.ifname, func(t *testing.T) {
			k, err := ParseKey(tt.in, tt.ifname)
			var kerr *KeyError
			if !errors.As(err, &kerr) {
				t.Fatalf("ParseKey(%q, %q) = %q, %v; want *KeyError", tt.in, tt.ifname, k.Path(), err)
			}
			if kerr.Key != tt.in {
				t.Errorf("KeyError.Key = %q, want the input %q", kerr.Key, tt.in)
			}
			if !strings.Contains(kerr.Reason, tt.reason) {
				t.Errorf("KeyError.Reason = %q, want it to mention %q", kerr.Reason, tt.reason)
			}
			if k != (Key{}) {
				t.Errorf("rejected input returned non-zero key %q", k.Path())
			}
		})
	}
}

func TestKeyErrorMessage(t *testing.T) {
	_, err := ParseKey("kernel.pid_max", "")
	want := `sysctl key "kernel.pid_max": not a network sysctl: must start with net`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestKeyIsComparable(t *testing.T) {
	dotted, err := ParseKey("net.ipv4.conf.eth0.100.rp_filter", "")
	if err != nil {
		t.Fatal(err)
	}
	slashed, err := ParseKey("net/ipv4/conf/eth0.100/rp_filter", "")
	if err != nil {
		t.Fatal(err)
	}
	substituted, err := ParseKey("net.ipv4.conf.IFNAME.rp_filter", "eth0.100")
	if err != nil {
		t.Fatal(err)
	}
	m := map[Key]string{dotted: "1"}
	m[slashed] = "2"
	m[substituted] = "3"
	if len(m) != 1 || m[dotted] != "3" {
		t.Errorf("three spellings of one key gave map %v, want one entry with value 3", m)
	}
}

func TestSortedKeys(t *testing.T) {
	m := map[Key]string{}
	for _, s := range []string{"net.ipv6.conf.all.forwarding", "net.core.somaxconn", "net.ipv4.ip_forward"} {
		k, err := ParseKey(s, "")
		if err != nil {
			t.Fatal(err)
		}
		m[k] = "1"
	}
	var got []string
	for _, k := range SortedKeys(m) {
		got = append(got, k.String())
	}
	want := []string{"net.core.somaxconn", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"}
	if !slices.Equal(got, want) {
		t.Errorf("SortedKeys = %q, want %q", got, want)
	}
}

func TestValidateValue(t *testing.T) {
	tests := []struct {
		in     string
		reason string // "" means accepted
	}{
		{in: "1"},
		{in: "600"},
		{in: "cubic"},
		{in: "4096\t131072\t6291456"},
		{in: "4096 131072 6291456"},
		{in: "-1"},
		{in: strings.Repeat("9", MaxValueLen)},
		{in: "", reason: "empty"},
		{in: strings.Repeat("9", MaxValueLen+1), reason: "longer than 4096 bytes"},
		{in: "1\n", reason: "newline"},
		{in: "1\n0", reason: "newline"},
		{in: "1\r", reason: "newline"},
		{in: "1\x00", reason: "NUL"},
		{in: "\x1b[31m", reason: "control character"},
		{in: "\xff", reason: "invalid UTF-8"},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		t.Run(name, func(t *testing.T) {
			err := ValidateValue(tt.in)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("ValidateValue(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateValue(%q) = nil, want error mentioning %q", tt.in, tt.reason)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.reason) {
				t.Errorf("error %q does not mention %q", msg, tt.reason)
			}
			if !strings.HasPrefix(msg, "sysctl value "+quoteShort(tt.in)) {
				t.Errorf("error %q does not name the value", msg)
			}
		})
	}
}
