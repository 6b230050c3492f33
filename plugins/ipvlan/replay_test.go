package main

import (
	"testing"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/internal/replay"
)

// TestReplayConvergesFromAnyOrder runs ADD, DEL and CHECK in random
// orders over three attachments (issue 11): see internal/replay.
func TestReplayConvergesFromAnyOrder(t *testing.T) {
	seed := replay.Seed(t)
	for round := range uint64(20) {
		ids := []string{"c1", "c2", "c3"}
		n := newFakeNode(t, "/run/netns/nst-c1", "/run/netns/nst-c2", "/run/netns/nst-c3")
		p := n.plugin()
		replay.Run(t, replay.Plugin{
			Add: p.Add, Check: p.Check, Del: p.Del,
			Conf:  []byte(testConf),
			Args:  func(id string) *skel.CmdArgs { return cmdArgs(id, "/run/netns/nst-"+id, testConf) },
			Serve: func(id string) { n.ipam.Attachment = id + "/eth0" },
			Owned: n.perAttachment,
		}, ids, 40, seed+round)
	}
}
