package main

import (
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
)

// driftConf is testConf as ADD saw it: a per-pod sysctl from
// runtimeConfig allowed by the operator's allowlist.
var driftConf = strings.Replace(testConf, `"ipam"`,
	`"allowedPodSysctls": ["net.ipv4.ip_unprivileged_port_start"],
	"runtimeConfig": {"sysctl": {"net.ipv4.ip_unprivileged_port_start": "80"}}, "ipam"`, 1)

// configDrifts are configs an operator (or a reboot) may hand DEL and GC
// that ADD would now refuse: what DEL and GC do not need must not stop
// them (issue 9, class 6).
var configDrifts = []struct{ name, from, to string }{
	{"allowlist narrowed", `"allowedPodSysctls": ["net.ipv4.ip_unprivileged_port_start"]`, `"allowedPodSysctls": []`},
	{"sysctl key now refused", `"net.ipv4.tcp_keepalive_time": "300"`, `"net.netfilter.nf_hooks_lwtunnel": "1"`},
	{"rps cpus beyond the node", `"cpus": "all"`, `"cpus": "0-99999"`},
	{"rps flowCount past the limit", `"flowCount": 2048`, `"flowCount": 99999999`},
	{"inheritSysctls outside net", `"net.ipv4.tcp_keepalive_intvl"`, `"kernel.panic"`},
}

func TestDriftedConfigIsRefusedByADD(t *testing.T) {
	for _, d := range configDrifts {
		t.Run(d.name, func(t *testing.T) {
			conf := drifted(t, d.from, d.to)
			if _, err := Load([]byte(conf), "", 0); err == nil {
				t.Fatalf("Load accepted the drifted config; the case proves nothing:\n%s", conf)
			}
		})
	}
}

func TestDelAfterConfigDriftReleasesEverything(t *testing.T) {
	for _, d := range configDrifts {
		t.Run(d.name, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			n.ipam.Attachment = "c1/eth0"
			p := n.plugin()
			before := n.perAttachment()
			args := cmdArgs("c1", "/run/netns/c1")
			args.StdinData = []byte(driftConf)
			if _, err := add(t, p, args); err != nil {
				t.Fatalf("ADD: %v", err)
			}
			args.StdinData = []byte(drifted(t, d.from, d.to))
			if err := p.Del(args); err != nil {
				t.Fatalf("DEL with the drifted config: %v", err)
			}
			if after := n.perAttachment(); after != before {
				t.Errorf("DEL left:\n%s", after)
			}
		})
	}
}

func TestGCAfterConfigDriftReclaimsStaleAttachment(t *testing.T) {
	for _, d := range configDrifts {
		t.Run(d.name, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			n.ipam.Attachment = "c1/eth0"
			p := n.plugin()
			before := n.perAttachment()
			args := cmdArgs("c1", "/run/netns/c1")
			args.StdinData = []byte(driftConf)
			if _, err := add(t, p, args); err != nil {
				t.Fatalf("ADD: %v", err)
			}
			conf := drifted(t, d.from, d.to) // no valid-attachments: none is valid
			if err := p.GC(&skel.CmdArgs{StdinData: []byte(conf)}); err != nil {
				t.Fatalf("GC with the drifted config: %v", err)
			}
			if after := n.perAttachment(); after != before {
				t.Errorf("GC left:\n%s", after)
			}
		})
	}
}

// drifted is driftConf with from replaced by to.
func drifted(t *testing.T, from, to string) string {
	t.Helper()
	if !strings.Contains(driftConf, from) {
		t.Fatalf("driftConf lacks %q", from)
	}
	return strings.Replace(driftConf, from, to, 1)
}
