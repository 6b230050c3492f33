package main

import (
	"testing"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/internal/verbtest"
)

// TestReleaseAfterConfigDrift: configs an operator (or a reboot onto
// fewer CPUs) may hand DEL and GC that ADD would now refuse; what DEL and
// GC do not need must not stop them (issue 9, class 6).
func TestReleaseAfterConfigDrift(t *testing.T) {
	drifts := append(verbtest.Drifts,
		verbtest.Drift{Name: "rps cpus beyond the node", From: `"cpus": "all"`, To: `"cpus": "0-99999"`},
		verbtest.Drift{Name: "rps flowCount past the limit", From: `"flowCount": 2048`, To: `"flowCount": 99999999`})
	load := func(conf string) error { _, err := Load([]byte(conf), "", 0); return err }
	verbtest.ReleaseAfterDrift(t, verbtest.AsAdded(testConf), drifts, load, func(t *testing.T) verbtest.World {
		n := newFakeNode(t, "/run/netns/c1")
		n.ipam.Attachment = "c1/eth0"
		p := n.plugin()
		args := func(conf string) *skel.CmdArgs {
			a := cmdArgs("c1", "/run/netns/c1")
			a.StdinData = []byte(conf)
			return a
		}
		return verbtest.World{
			Add:   func(conf string) error { _, err := add(t, p, args(conf)); return err },
			Del:   func(conf string) error { return p.Del(args(conf)) },
			GC:    func(conf string) error { return p.GC(&skel.CmdArgs{StdinData: []byte(conf)}) },
			Owned: n.perAttachment,
		}
	})
}
