package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/internal/verbtest"
)

// TestReleaseAfterConfigDrift: configs DEL and GC may be handed that ADD
// would now refuse; what they do not need must not stop them (issue 9,
// class 6).
func TestReleaseAfterConfigDrift(t *testing.T) {
	drifts := append(verbtest.Drifts, verbtest.Drift{Name: "mtu out of range", From: `"mode": "l3s"`, To: `"mode": "l3s", "mtu": 70000`})
	load := func(conf string) error { _, err := Load([]byte(conf), ""); return err }
	verbtest.ReleaseAfterDrift(t, verbtest.AsAdded(testConf), drifts, load, func(t *testing.T) verbtest.World {
		n := newFakeNode(t, c1)
		n.ipam.Attachment = "c1/eth0"
		p := n.plugin()
		return verbtest.World{
			Add:   func(conf string) error { _, err := add(t, p, cmdArgs("c1", c1, conf)); return err },
			Del:   func(conf string) error { return p.Del(cmdArgs("c1", c1, conf)) },
			GC:    func(conf string) error { return p.GC(&skel.CmdArgs{StdinData: []byte(conf)}) },
			Owned: n.perAttachment,
			GCOwned: func() string {
				return strings.Join(slices.DeleteFunc(strings.Split(n.perAttachment(), "\n"), isLink), "\n")
			},
		}
	})
}

// isLink reports whether a line of perAttachment is a link rather than a
// reservation.
func isLink(line string) bool { return strings.HasPrefix(line, "netns ") }
