package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// Status is CNI STATUS: an error (code 50) naming the reason when an ADD
// would fail now; otherwise nil. It checks only what ADD depends on and
// cannot fix itself: netfilter for the families in use, and IPAM.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args, 0)
	if err != nil {
		return err
	}
	if err := p.firewallStatus(c); err != nil {
		return err
	}
	if err := p.spoofCheckUsable(c); err != nil {
		return cnierr.NotAvailable(err.Error())
	}
	return p.ipam(c).Status()
}
