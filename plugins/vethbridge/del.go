package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/steps"
)

// Del is CNI DEL. It needs neither the netns nor prevResult: the host veth
// is found by its derived name (deleting it removes the container end too)
// and IPAM releases by container ID and ifname. Network-wide rules stay,
// except in a backend the network no longer uses (RetireOtherBackend).
func (p *Plugin) Del(args *skel.CmdArgs) error {
	c, err := p.loadRelease(args)
	if err != nil {
		return err
	}
	return cnierr.Outcome(p.del(c, args))
}

// del is also ADD's rollback, so it must undo any prefix of ADD's steps.
// The veth and the IPAM release are independent, so they run at the same
// time (deleting a veth waits for an RCU grace period); a failure of one
// never stops the other, so IPAM is released in every case.
func (p *Plugin) del(c *Config, args *skel.CmdArgs) error {
	names := hostVethNames(c.Network, args.ContainerID, args.IfName)
	own := vethAlias(c.Network, args.ContainerID, args.IfName)
	return steps.Together("del",
		steps.Step{Name: "veth", Do: func() error { return p.deleteVeths(names, own) }},
		steps.Step{Name: "ipam", Do: p.ipam(c).Del},
		steps.Step{Name: "macspoofchk", Do: func() error { return p.deleteSpoofCheck(c, names) }},
		steps.Step{Name: "netfilter", Do: func() error {
			// Best effort: the network's rules in a backend it left are
			// not the pod's, and a failed DEL would keep the runtime from
			// removing the pod; the next ADD, DEL or GC tries again.
			if err := p.Firewall.RetireOtherBackend(c.Network, c.Bridge, c.IPMasqBackend); err != nil {
				fmt.Fprintf(os.Stderr, "netsteer: %v\n", err)
			}
			return nil
		}},
	).Do()
}

// deleteVeths deletes the attachment's host veth under each name it may
// carry (hostVethNames), going on after a failure.
func (p *Plugin) deleteVeths(names []string, own string) error {
	var errs []error
	for _, host := range names {
		err := p.Host.DeleteLink(host, own)
		if cnierr.IsCollision(err) {
			// Another attachment's veth holds our name (issue 9, class
			// 5): ours cannot exist, and theirs is not ours to delete.
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting veth %s: %w", host, err))
		}
	}
	return errors.Join(errs...)
}
