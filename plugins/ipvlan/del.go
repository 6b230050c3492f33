package main

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
)

// load parses the config and the CNI args ADD, DEL and CHECK share.
func (p *Plugin) load(args *skel.CmdArgs) (*Config, error) {
	c, err := Load(args.StdinData, args.Args)
	if err != nil {
		return nil, err
	}
	if err := netconf.ValidateAttachment(args.ContainerID, args.IfName); err != nil {
		return nil, err
	}
	return c, nil
}

// Del is CNI DEL. It never resolves the master, so it works on a node
// without a default route, and it needs neither prevResult nor a live
// netns: the link is found by name in the netns, and IPAM releases by
// container ID and ifname.
func (p *Plugin) Del(args *skel.CmdArgs) error {
	c, err := p.load(args)
	if err != nil {
		return err
	}
	if err := p.del(c, args); err != nil {
		return cnierr.Wrap(cnierr.Kernel, err)
	}
	return nil
}

// del is also ADD's rollback, so it undoes any prefix of ADD's steps: the
// link under either name, then the addresses. It goes on after a failure
// so IPAM is released in every case. With CNI_NETNS empty the runtime has
// already removed the netns, and the link went with it.
func (p *Plugin) del(c *Config, args *skel.CmdArgs) error {
	var errs []error
	if args.Netns != "" {
		for _, l := range []struct{ name, alias string }{
			{args.IfName, linkAlias(c.Network, args.ContainerID, args.IfName)},
			{tempName(c.Network, args.ContainerID, args.IfName), ""},
		} {
			if err := p.Container.DeleteIPVlan(args.Netns, l.name, l.alias); err != nil {
				errs = append(errs, fmt.Errorf("deleting ipvlan %s in %s: %w", l.name, args.Netns, err))
			}
		}
	}
	if c.IPAMType != "" {
		if err := p.IPAM.Del(c.IPAMType, c.Raw); err != nil {
			errs = append(errs, cnierr.IPAMError("releasing addresses with "+c.IPAMType, err))
		}
	}
	return errors.Join(errs...)
}
