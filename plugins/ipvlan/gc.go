package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// GC is CNI GC. An ipvlan attachment owns no object in the plugin's own
// netns: its only kernel object, the link, lives in the container netns
// and dies with it. What outlives it is the address: GC releases the
// reservation of every attachment IPAM holds that is not in
// cni.dev/valid-attachments (absent means none is valid), then forwards
// GC to IPAM, which receives the list in the config.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	c, err := LoadRelease(args.StdinData)
	if err != nil {
		return err
	}
	return cnierr.Outcome(p.ipam(c).GC(c.ValidAttachments, nil))
}
