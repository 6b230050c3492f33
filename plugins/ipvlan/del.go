package main

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netns"
)

// Del is CNI DEL. It never resolves the master, so it works on a node
// without a default route, and it needs neither prevResult nor a live
// netns: the link is found by name in the netns, and IPAM releases by
// container ID and ifname.
func (p *Plugin) Del(args *skel.CmdArgs) error {
	c, err := p.loadRelease(args)
	if err != nil {
		return err
	}
	// A netns that is gone, empty or not one took the link with it (or
	// never had it): the link is skipped, never looked for elsewhere, and
	// the addresses are released all the same.
	target, err := p.OpenNetns(args.Netns)
	if err != nil {
		target = nil
	}
	defer target.Close()
	return cnierr.Outcome(p.del(c, args, target))
}

// del is also ADD's rollback, so it undoes any prefix of ADD's steps: the
// link under either name, then the addresses. It goes on after a failure
// so IPAM is released in every case; last, the attachment leaves the
// master's port record. A nil target is a netns that is
// gone, and the link went with it.
func (p *Plugin) del(c *Config, args *skel.CmdArgs, target *netns.NS) error {
	var errs []error
	if target != nil {
		ours := linkAlias(c.Network, args.ContainerID, args.IfName)
		for _, l := range []struct {
			name  string
			owner LinkOwner
		}{
			{args.IfName, LinkOwner{Alias: ours}},
			// Under the temporary name, a crashed ADD may have left it
			// before setting the alias.
			{tempName(c.Network, args.ContainerID, args.IfName), LinkOwner{Alias: ours, Unaliased: true}},
		} {
			if err := p.Container.DeleteIPVlan(target, l.name, l.owner); err != nil {
				errs = append(errs, fmt.Errorf("deleting ipvlan %s in %s: %w", l.name, target, err))
			}
		}
	}
	errs = append(errs, p.ipam(c).Del())
	me := portEntry{Network: c.Network, ContainerID: args.ContainerID, IfName: args.IfName}
	errs = append(errs, p.Ports.prune(me.same))
	return errors.Join(errs...)
}
