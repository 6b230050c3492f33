package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// GC is CNI GC: delete this network's host veths whose attachment is not
// in cni.dev/valid-attachments (absent means none is valid), release the
// addresses of every such attachment — found by its veth or, when the
// veth died with its netns, by its IPAM reservation — then let IPAM
// collect its own. The network's rules in a backend it no longer uses go
// too. Other networks' veths carry another name in their
// alias and are never touched.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	c, err := LoadRelease(args.StdinData)
	if err != nil {
		return err
	}
	stale, errs := p.deleteStaleVeths(c)
	errs = append(errs, p.collectSpoofChecks(c), p.Firewall.RetireOtherBackend(c.Network, c.Bridge, c.IPMasqBackend))
	errs = append(errs, p.ipam(c).GC(c.ValidAttachments, stale))
	return cnierr.Outcome(errors.Join(errs...))
}

// deleteStaleVeths deletes the network's host veths whose attachment is
// not valid and returns those attachments.
func (p *Plugin) deleteStaleVeths(c *Config) ([]types.GCAttachment, []error) {
	veths, err := p.Host.Attachments()
	if err != nil {
		return nil, []error{fmt.Errorf("listing host veths: %w", err)}
	}
	var stale []types.GCAttachment
	var errs []error
	for _, v := range veths {
		network, id, ifname, ok := parseAlias(v.Alias)
		a := types.GCAttachment{ContainerID: id, IfName: ifname}
		if !ok || network != c.Network || slices.Contains(c.ValidAttachments, a) {
			continue
		}
		stale = append(stale, a)
		if err := p.Host.DeleteLink(v.Name, v.Alias); err != nil {
			errs = append(errs, fmt.Errorf("deleting stale veth %s of %s/%s: %w", v.Name, id, ifname, err))
		}
	}
	return stale, errs
}
