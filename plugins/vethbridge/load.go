package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/netconf"
)

// load parses the config and the CNI args ADD and CHECK share.
func (p *Plugin) load(args *skel.CmdArgs) (*Config, error) {
	return netconf.ForAttachment(args, func() (*Config, error) { return Load(args.StdinData, args.Args, 0) })
}

// loadRelease parses what DEL needs to find and release the attachment
// (see LoadRelease); CNI_ARGS is ADD's business.
func (p *Plugin) loadRelease(args *skel.CmdArgs) (*Config, error) {
	return netconf.ForAttachment(args, func() (*Config, error) { return LoadRelease(args.StdinData) })
}
