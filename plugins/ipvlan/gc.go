package main

import (
	"errors"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// GC is CNI GC. An ipvlan attachment owns no object in the plugin's own
// netns: its only kernel object, the link, lives in the container netns
// and dies with it. What outlives it is the address: GC releases the
// reservation of every attachment IPAM holds that is not in
// cni.dev/valid-attachments (absent means none is valid), then forwards
// GC to IPAM, which receives the list in the config. Last, the network's
// entries of attachments not in the list leave the masters' port records.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	c, err := LoadRelease(args.StdinData)
	if err != nil {
		return err
	}
	valid := map[types.GCAttachment]bool{}
	for _, a := range c.ValidAttachments {
		valid[a] = true
	}
	stale := func(e portEntry) bool {
		return e.Network == c.Network && !valid[types.GCAttachment{ContainerID: e.ContainerID, IfName: e.IfName}]
	}
	return cnierr.Outcome(errors.Join(p.ipam(c).GC(c.ValidAttachments, nil), p.Ports.prune(stale)))
}
