package main

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// GC is CNI GC: delete this network's host veths whose attachment is not
// in cni.dev/valid-attachments (absent means none is valid), release the
// addresses of every such attachment — found by its veth or, when the
// veth died with its netns, by its IPAM reservation — then let IPAM
// collect its own. Other networks' veths carry another name in their
// alias and are never touched.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args, p.NCPU)
	if err != nil {
		return err
	}
	valid := map[types.GCAttachment]bool{}
	for _, a := range c.ValidAttachments {
		valid[a] = true
	}
	stale, errs := p.deleteStaleVeths(c, valid)
	if c.IPAMType != "" {
		errs = append(errs, p.releaseStale(c, valid, stale)...)
		if err := p.IPAM.GC(c.IPAMType, c.Raw); err != nil {
			errs = append(errs, cnierr.IPAMError("IPAM GC with "+c.IPAMType, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cnierr.Wrap(cnierr.Kernel, err)
	}
	return nil
}

// deleteStaleVeths deletes the network's host veths whose attachment is
// not valid and returns those attachments.
func (p *Plugin) deleteStaleVeths(c *Config, valid map[types.GCAttachment]bool) ([]types.GCAttachment, []error) {
	veths, err := p.Host.Attachments()
	if err != nil {
		return nil, []error{fmt.Errorf("listing host veths: %w", err)}
	}
	var stale []types.GCAttachment
	var errs []error
	for _, v := range veths {
		network, id, ifname, ok := parseAlias(v.Alias)
		a := types.GCAttachment{ContainerID: id, IfName: ifname}
		if !ok || network != c.Network || valid[a] {
			continue
		}
		stale = append(stale, a)
		if err := p.Host.DeleteLink(v.Name); err != nil {
			errs = append(errs, fmt.Errorf("deleting stale veth %s of %s/%s: %w", v.Name, id, ifname, err))
		}
	}
	return stale, errs
}

// releaseStale runs IPAM DEL for each stale attachment: those whose veth
// GC deleted, and those IPAM still holds an address for.
func (p *Plugin) releaseStale(c *Config, valid map[types.GCAttachment]bool, stale []types.GCAttachment) []error {
	var errs []error
	holders, err := p.Leases.Holders(c.IPAMType, c.Raw, c.Network)
	if err != nil {
		errs = append(errs, cnierr.Wrap(cnierr.IPAM, fmt.Errorf("listing %s reservations: %w", c.IPAMType, err)))
	}
	released := map[types.GCAttachment]bool{}
	for _, a := range append(stale, holders...) {
		if valid[a] || released[a] {
			continue
		}
		released[a] = true
		if err := p.Leases.Release(c.IPAMType, c.Raw, a); err != nil {
			errs = append(errs, cnierr.IPAMError(fmt.Sprintf("releasing addresses of %s/%s with %s", a.ContainerID, a.IfName, c.IPAMType), err))
		}
	}
	return errs
}

// Status is CNI STATUS: an error (code 50) naming the reason when an ADD
// would fail now; otherwise nil. It checks only what ADD depends on and
// cannot fix itself: netfilter for the families in use, and IPAM.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args, p.NCPU)
	if err != nil {
		return err
	}
	if err := p.firewallStatus(c); err != nil {
		return err
	}
	if c.IPAMType != "" {
		if err := p.IPAM.Status(c.IPAMType, c.Raw); err != nil {
			return cnierr.NotAvailable(fmt.Sprintf("IPAM plugin %s: %v", c.IPAMType, err))
		}
	}
	return nil
}
