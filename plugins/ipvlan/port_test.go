package main

import (
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
)

// TestAddRefusesAMasterWhosePortDisagrees: testConf asks for l3s and
// private; a master whose existing ipvlan links (its port) say otherwise,
// a master that is itself an ipvlan, and a loopback master are refused
// with code 7 before anything is made (issue 9, class 10).
func TestAddRefusesAMasterWhosePortDisagrees(t *testing.T) {
	theirs := linkAlias("otherpods", "c9", "eth0")
	for _, tc := range []struct {
		name   string
		master func(m *Master)
		want   []string // in the error; none when ADD succeeds
	}{
		{"no links yet", func(m *Master) {}, nil},
		{"links agree", func(m *Master) {
			m.Slaves = []Slave{{Name: "nsiA", Alias: theirs, Mode: ModeL3S, Flag: FlagPrivate}}
		}, nil},
		{"mode differs", func(m *Master) {
			m.Slaves = []Slave{{Name: "nsiA", Alias: theirs, Mode: ModeL2, Flag: FlagPrivate}}
		}, []string{`"mode" = "l3s"`, "mode l2", `network "otherpods"`, "nstm0"}},
		{"flag differs", func(m *Master) {
			m.Slaves = []Slave{{Name: "nsiA", Alias: theirs, Mode: ModeL3S, Flag: FlagBridge}}
		}, []string{`"flag" = "private"`, "flag bridge", `network "otherpods"`}},
		{"second link differs, not ours", func(m *Master) {
			m.Slaves = []Slave{{Name: "nsiA", Alias: theirs, Mode: ModeL3S, Flag: FlagPrivate}, {Name: "ipvl9", Mode: ModeL3S, Flag: FlagVEPA}}
		}, []string{`"flag" = "private"`, "flag vepa", "ipvlan link ipvl9"}},
		{"master is an ipvlan", func(m *Master) { m.Kind = "ipvlan" }, []string{`"master" = "nstm0"`, "itself an ipvlan"}},
		{"master is loopback", func(m *Master) { m.Loopback = true }, []string{`"master" = "nstm0"`, "loopback"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, c1)
			n.ipam.Attachment = "c1/eth0"
			m := n.masters[""]["nstm0"]
			tc.master(&m)
			n.masters[""]["nstm0"] = m
			_, err := add(t, n.plugin(), cmdArgs("c1", c1, testConf))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ADD: %v", err)
				}
				return
			}
			if codeOf(err) != types.ErrInvalidNetworkConfig {
				t.Fatalf("ADD = %v (code %d), want code 7", err, codeOf(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ADD error %q lacks %q", err, w)
				}
			}
			if w := n.perAttachment(); w != "" {
				t.Errorf("refused ADD changed the world:\n%s", w)
			}
		})
	}
}

// l2Conf is a second network on the same master asking for another mode
// and flag than testConf's l3s/private.
const l2Conf = `{"cniVersion": "1.1.0", "name": "second", "type": "ipvlan", "mode": "l2", "ipam": {"type": "fake"}}`

// TestPortRecordRefusesAnotherModeForPodsTheNodeCannotSee: pods of
// network "unit" sit in their own netns, where the node cannot list
// their links; an ADD of network "second" asking for another mode or
// flag on the same master is refused with code 7 naming the port's mode
// and flag and network "unit", changes nothing, and succeeds once the
// last pod of "unit" is deleted (issue 9, class 10).
func TestPortRecordRefusesAnotherModeForPodsTheNodeCannotSee(t *testing.T) {
	const c2, c3 = "/run/netns/nst-c2", "/run/netns/nst-c3"
	for _, tc := range []struct {
		name, conf string
		want       []string
	}{
		{"mode differs", l2Conf, []string{`"mode" = "l2"`, "mode l3s", `network "unit"`, "nstm0"}},
		{"flag differs", strings.Replace(testConf, `"flag": "private"`, `"flag": "vepa"`, 1), []string{`"flag" = "vepa"`, "flag private", `network "unit"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, c1, c2, c3)
			p := n.plugin()
			for _, id := range []string{"c1", "c2"} {
				n.ipam.Attachment = id + "/eth0"
				if _, err := add(t, p, cmdArgs(id, "/run/netns/nst-"+id, testConf)); err != nil {
					t.Fatalf("ADD %s: %v", id, err)
				}
			}
			before := n.String()
			n.ipam.Attachment = "c3/eth0"
			_, err := add(t, p, cmdArgs("c3", c3, tc.conf))
			if codeOf(err) != types.ErrInvalidNetworkConfig {
				t.Fatalf("ADD = %v (code %d), want code 7", err, codeOf(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ADD error %q lacks %q", err, w)
				}
			}
			if after := n.String(); after != before {
				t.Errorf("refused ADD changed the world:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			for _, id := range []string{"c1", "c2"} {
				if err := p.Del(cmdArgs(id, "/run/netns/nst-"+id, testConf)); err != nil {
					t.Fatalf("DEL %s: %v", id, err)
				}
				_, err = add(t, p, cmdArgs("c3", c3, tc.conf))
				if id == "c1" && codeOf(err) != types.ErrInvalidNetworkConfig {
					t.Fatalf("ADD with c2 still on the master = %v, want code 7", err)
				}
			}
			if err != nil {
				t.Fatalf("ADD after the last pod of the first network left: %v", err)
			}
			if got := strings.Join(n.portLines(), "\n"); !strings.HasPrefix(got, "port nstm0 ") || !strings.Contains(got, "/c3/eth0") || strings.Count(got, "\n") != 0 {
				t.Errorf("port record = %q, want c3's entry alone", got)
			}
		})
	}
}

// TestPortRecordDoesNotBlockOnceItsPodsAreGone: a record whose pods went
// without a DEL (netns deleted, link gone, plugin killed before the link
// existed) does not hold the master: the next ADD of another mode finds
// their links gone, drops their entries and succeeds.
func TestPortRecordDoesNotBlockOnceItsPodsAreGone(t *testing.T) {
	const c2 = "/run/netns/nst-c2"
	for _, tc := range []struct {
		name string
		gone func(n *fakeNode)
	}{
		{"netns deleted", func(n *fakeNode) { delete(n.links, c1) }},
		{"link deleted", func(n *fakeNode) { delete(n.links[c1], "eth0") }},
		{"link of another attachment in its place", func(n *fakeNode) {
			l := n.links[c1]["eth0"]
			l.Alias = linkAlias("unit", "c9", "eth0")
			n.links[c1]["eth0"] = l
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, c1, c2)
			p := n.plugin()
			n.ipam.Attachment = "c1/eth0"
			if _, err := add(t, p, cmdArgs("c1", c1, testConf)); err != nil {
				t.Fatalf("ADD c1: %v", err)
			}
			tc.gone(n)
			n.ipam.Attachment = "c2/eth0"
			if _, err := add(t, p, cmdArgs("c2", c2, l2Conf)); err != nil {
				t.Fatalf("ADD of another mode after c1 went: %v", err)
			}
			if got := strings.Join(n.portLines(), "\n"); strings.Contains(got, "/c1/") {
				t.Errorf("port record kept the gone pod: %q", got)
			}
		})
	}
}

// TestGCPrunesOnlyItsNetworksStaleEntries: GC of network "unit" with c1
// valid drops c2's entry and keeps c1's and another network's.
func TestGCPrunesOnlyItsNetworksStaleEntries(t *testing.T) {
	const c2, c3 = "/run/netns/nst-c2", "/run/netns/nst-c3"
	n := newFakeNode(t, c1, c2, c3)
	p := n.plugin()
	other := strings.Replace(testConf, `"name": "unit"`, `"name": "other"`, 1)
	for _, a := range []struct{ id, conf string }{{"c1", testConf}, {"c2", testConf}, {"c3", other}} {
		n.ipam.Attachment = a.id + "/eth0"
		if _, err := add(t, p, cmdArgs(a.id, "/run/netns/nst-"+a.id, a.conf)); err != nil {
			t.Fatalf("ADD %s: %v", a.id, err)
		}
	}
	gc := strings.Replace(testConf, `"type": "ipvlan",`, `"type": "ipvlan", "cni.dev/valid-attachments": [{"containerID": "c1", "ifname": "eth0"}],`, 1)
	if err := p.GC(&skel.CmdArgs{StdinData: []byte(gc)}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	got := strings.Join(n.portLines(), "\n")
	for _, w := range []string{"unit/c1/eth0", "other/c3/eth0"} {
		if !strings.Contains(got, w) {
			t.Errorf("GC dropped %s: %q", w, got)
		}
	}
	if strings.Contains(got, "unit/c2/") {
		t.Errorf("GC kept unit/c2: %q", got)
	}
}

// TestTempNameOfAnotherAttachmentIsLeftAlone: a link under this
// attachment's temporary name that carries another attachment's alias
// (their names collide) is never deleted: DEL of ours succeeds and leaves
// it, ADD refuses with code 104 naming both and leaves it. One without
// an alias, which a crashed ADD of ours leaves, is ours to delete.
func TestTempNameOfAnotherAttachmentIsLeftAlone(t *testing.T) {
	tmp := tempName("unit", "c1", "eth0")
	theirs := fakeLink{MTU: 1500, ContainerState: ContainerState{Kind: "ipvlan", Mode: ModeL3S, Flag: FlagPrivate, Alias: linkAlias("unit", "c9", "eth0")}}
	n := newFakeNode(t, c1)
	n.ipam.Attachment = "c1/eth0"
	n.links[c1][tmp] = theirs
	p := n.plugin()
	before := n.String()
	if err := p.Del(cmdArgs("c1", c1, testConf)); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	_, err := add(t, p, cmdArgs("c1", c1, testConf))
	if codeOf(err) != 104 || !strings.Contains(err.Error(), "netsteer:unit:c9:eth0") || !strings.Contains(err.Error(), "netsteer:unit:c1:eth0") {
		t.Errorf("ADD = %v (code %d), want code 104 naming both aliases", err, codeOf(err))
	}
	if after := n.String(); after != before {
		t.Errorf("the other attachment's link or our state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	unaliased := theirs
	unaliased.Alias = ""
	n.links[c1][tmp] = unaliased
	if err := p.Del(cmdArgs("c1", c1, testConf)); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	if _, ok := n.links[c1][tmp]; ok {
		t.Errorf("DEL left the unaliased link a crashed ADD of ours made")
	}
}
