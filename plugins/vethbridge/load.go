package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/netconf"
)

// load parses the config and the CNI args ADD and CHECK share.
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

// loadRelease parses what DEL needs to find and release the attachment
// (see LoadRelease); CNI_ARGS is ADD's business.
func (p *Plugin) loadRelease(args *skel.CmdArgs) (*Config, error) {
	c, err := LoadRelease(args.StdinData)
	if err != nil {
		return nil, err
	}
	if err := netconf.ValidateAttachment(args.ContainerID, args.IfName); err != nil {
		return nil, err
	}
	return c, nil
}
