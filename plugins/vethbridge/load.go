package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/netconf"
)

// load parses the config and the CNI args every command shares.
func (p *Plugin) load(args *skel.CmdArgs) (*Config, error) {
	c, err := Load(args.StdinData, args.Args, 0)
	if err != nil {
		return nil, err
	}
	if err := netconf.ValidateAttachment(args.ContainerID, args.IfName); err != nil {
		return nil, err
	}
	return c, nil
}
