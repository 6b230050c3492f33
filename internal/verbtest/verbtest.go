// Package verbtest holds the cases and assertions both plugins' unit
// tests share for the policy both plugins follow the same way: a refusal
// carries its code, names what to fix and changes nothing; and a config
// that drifted after ADD (issue 9, class 6) still lets DEL and GC release
// everything the attachment owns. Each plugin wires its own fake world in;
// the cases and the checks are written once.
package verbtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

// Refused fails t unless err is a CNI error with code whose message names
// each of want, and the world rendered before and after is the same.
func Refused(t *testing.T, err error, code uint, want []string, before, after string) {
	t.Helper()
	var te *types.Error
	if !errors.As(err, &te) || te.Code != code {
		t.Fatalf("refusal = %v, want code %d", err, code)
	}
	for _, w := range want {
		if !strings.Contains(te.Msg, w) {
			t.Errorf("message %q does not name %q", te.Msg, w)
		}
	}
	if after != before {
		t.Errorf("refusal changed the world:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// Drift is one change to a config ADD accepted after which ADD would
// refuse it: From replaced by To.
type Drift struct{ Name, From, To string }

// Drifts are the drifts both plugins' configs can undergo; each plugin
// adds its own (rps, mtu).
var Drifts = []Drift{
	{"allowlist narrowed", `"allowedPodSysctls": ["net.ipv4.ip_unprivileged_port_start"]`, `"allowedPodSysctls": []`},
	{"sysctl key now refused", `"net.ipv4.tcp_keepalive_time": "300"`, `"net.netfilter.nf_hooks_lwtunnel": "1"`},
	{"inheritSysctls outside net", `"net.ipv4.tcp_keepalive_intvl"`, `"kernel.panic"`},
}

// AsAdded is conf as ADD saw it before the drifts: with a per-pod sysctl
// from runtimeConfig that the operator's allowlist allows. conf must hold
// an "ipam" key, the sysctl keys and the inheritSysctls entry the Drifts
// replace.
func AsAdded(conf string) string {
	return strings.Replace(conf, `"ipam"`,
		`"allowedPodSysctls": ["net.ipv4.ip_unprivileged_port_start"],
	"runtimeConfig": {"sysctl": {"net.ipv4.ip_unprivileged_port_start": "80"}}, "ipam"`, 1)
}

// Apply is conf with d applied; it fails t when conf lacks d.From, so a
// case never silently tests the unchanged config.
func (d Drift) Apply(t *testing.T, conf string) string {
	t.Helper()
	if !strings.Contains(conf, d.From) {
		t.Fatalf("config lacks %q", d.From)
	}
	return strings.Replace(conf, d.From, d.To, 1)
}

// World is one fresh fake node with a single attachment's verbs.
type World struct {
	// Add, Del and GC run the verb for the attachment with conf as stdin
	// (GC with no valid attachments: none is valid).
	Add, Del, GC func(conf string) error
	// Owned renders what the attachment owns: links and reservations.
	Owned func() string
	// GCOwned renders what GC must release, when that is less than Owned
	// (nil: Owned). An ipvlan link lives in the pod's netns and goes with
	// it, so GC releases only its reservation.
	GCOwned func() string
}

// ReleaseAfterDrift checks, for each drift, that ADD refuses the drifted
// config (else the case proves nothing), and that after an ADD with added
// DEL and GC given the drifted config each leave nothing the attachment
// owned.
func ReleaseAfterDrift(t *testing.T, added string, drifts []Drift, load func(conf string) error, world func(t *testing.T) World) {
	for _, d := range drifts {
		t.Run(d.Name, func(t *testing.T) {
			conf := d.Apply(t, added)
			if load(conf) == nil {
				t.Fatalf("Load accepted the drifted config; the case proves nothing:\n%s", conf)
			}
			for _, verb := range []string{"DEL", "GC"} {
				w := world(t)
				owned := w.Owned
				if verb == "GC" && w.GCOwned != nil {
					owned = w.GCOwned
				}
				before := owned()
				if err := w.Add(added); err != nil {
					t.Fatalf("ADD: %v", err)
				}
				release := map[string]func(string) error{"DEL": w.Del, "GC": w.GC}[verb]
				if err := release(conf); err != nil {
					t.Fatalf("%s with the drifted config: %v", verb, err)
				}
				if after := owned(); after != before {
					t.Errorf("%s left:\n%s", verb, after)
				}
			}
		})
	}
}

// WithValidAttachments is conf (which must hold an "ipam" key) with
// cni.dev/valid-attachments listing eth0 of each of containerIDs.
func WithValidAttachments(conf string, containerIDs ...string) string {
	var list []string
	for _, id := range containerIDs {
		list = append(list, `{"containerID": "`+id+`", "ifname": "eth0"}`)
	}
	return strings.Replace(conf, `"ipam"`, `"cni.dev/valid-attachments": [`+strings.Join(list, ", ")+`], "ipam"`, 1)
}

// GCKept fails t unless, after GC, the attachment stale ("<id>/<ifname>")
// lost its reservation and valid kept its own; reserved is the fake
// IPAM's reservations.
func GCKept(t *testing.T, reserved map[string]string, stale, valid string) {
	t.Helper()
	if _, ok := reserved[stale]; ok {
		t.Errorf("GC kept the reservation of %s, which is not valid", stale)
	}
	if _, ok := reserved[valid]; !ok {
		t.Errorf("GC released the reservation of %s, which is valid", valid)
	}
}
