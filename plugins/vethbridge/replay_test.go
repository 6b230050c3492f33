package main

import (
	"testing"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/internal/replay"
)

// TestReplayConvergesFromAnyOrder runs ADD, DEL and CHECK in random
// orders over three attachments (issue 11): see internal/replay.
func TestReplayConvergesFromAnyOrder(t *testing.T) {
	replay.Rounds(t, 20, func() replay.Plugin {
		n := newFakeNode(t, "/run/netns/c1", "/run/netns/c2", "/run/netns/c3")
		p := n.plugin()
		args := func(id string) *skel.CmdArgs { return cmdArgs(id, "/run/netns/"+id) }
		return replay.Plugin{Add: p.Add, Check: p.Check, Del: p.Del, Conf: []byte(testConf), Args: args,
			Serve: func(id string) { n.ipam.Attachment = id + "/eth0" }, Owned: n.perAttachment}
	})
}
