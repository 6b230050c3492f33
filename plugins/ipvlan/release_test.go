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

// configDrifts are configs DEL and GC may be handed that ADD would now
// refuse: what they do not need must not stop them (issue 9, class 6).
var configDrifts = []struct{ name, from, to string }{
	{"allowlist narrowed", `"allowedPodSysctls": ["net.ipv4.ip_unprivileged_port_start"]`, `"allowedPodSysctls": []`},
	{"sysctl key now refused", `"net.ipv4.tcp_keepalive_time": "300"`, `"net.netfilter.nf_hooks_lwtunnel": "1"`},
	{"inheritSysctls outside net", `"net.ipv4.tcp_keepalive_intvl"`, `"kernel.panic"`},
	{"mtu out of range", `"mode": "l3s"`, `"mode": "l3s", "mtu": 70000`},
}

func TestDriftedConfigIsRefusedByADD(t *testing.T) {
	for _, d := range configDrifts {
		t.Run(d.name, func(t *testing.T) {
			conf := drifted(t, d.from, d.to)
			if _, err := Load([]byte(conf), ""); err == nil {
				t.Fatalf("Load accepted the drifted config; the case proves nothing:\n%s", conf)
			}
		})
	}
}

func TestDelAfterConfigDriftReleasesEverything(t *testing.T) {
	for _, d := range configDrifts {
		t.Run(d.name, func(t *testing.T) {
			n := newFakeNode(t, c1)
			n.ipam.Attachment = "c1/eth0"
			p := n.plugin()
			before := n.perAttachment()
			if _, err := add(t, p, cmdArgs("c1", c1, driftConf)); err != nil {
				t.Fatalf("ADD: %v", err)
			}
			if err := p.Del(cmdArgs("c1", c1, drifted(t, d.from, d.to))); err != nil {
				t.Fatalf("DEL with the drifted config: %v", err)
			}
			if after := n.perAttachment(); after != before {
				t.Errorf("DEL left:\n%s", after)
			}
		})
	}
}

func TestGCAfterConfigDriftReleasesStaleReservation(t *testing.T) {
	for _, d := range configDrifts {
		t.Run(d.name, func(t *testing.T) {
			n := newFakeNode(t, c1)
			n.ipam.Attachment = "c1/eth0"
			p := n.plugin()
			if _, err := add(t, p, cmdArgs("c1", c1, driftConf)); err != nil {
				t.Fatalf("ADD: %v", err)
			}
			// no valid-attachments: none is valid
			if err := p.GC(&skel.CmdArgs{StdinData: []byte(drifted(t, d.from, d.to))}); err != nil {
				t.Fatalf("GC with the drifted config: %v", err)
			}
			if _, ok := n.ipam.Reserved["c1/eth0"]; ok {
				t.Error("GC kept the reservation of a stale attachment")
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
