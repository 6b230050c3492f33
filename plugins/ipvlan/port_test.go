package main

import (
	"strings"
	"testing"

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
