package main

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// GC is CNI GC: delete this network's host veths whose attachment is not
// in cni.dev/valid-attachments (absent means none is valid), then let IPAM
// collect its own. Other networks' veths carry another name in their alias
// and are never touched.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args, p.NCPU)
	if err != nil {
		return err
	}
	valid := map[string]bool{}
	for _, a := range c.ValidAttachments {
		valid[a.ContainerID+"/"+a.IfName] = true
	}
	veths, err := p.Host.Attachments()
	if err != nil {
		return cnierr.Wrap(cnierr.Kernel, fmt.Errorf("listing host veths: %w", err))
	}
	var errs []error
	for _, v := range veths {
		network, id, ifname, ok := parseAlias(v.Alias)
		if !ok || network != c.Network || valid[id+"/"+ifname] {
			continue
		}
		if err := p.Host.DeleteLink(v.Name); err != nil {
			errs = append(errs, fmt.Errorf("deleting stale veth %s of %s/%s: %w", v.Name, id, ifname, err))
		}
	}
	if c.IPAMType != "" {
		if err := p.IPAM.GC(c.IPAMType, c.Raw); err != nil {
			errs = append(errs, cnierr.Wrap(cnierr.IPAM, fmt.Errorf("IPAM GC with %s: %w", c.IPAMType, err)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cnierr.Wrap(cnierr.Kernel, err)
	}
	return nil
}

// Status is CNI STATUS: an error (code 50) naming the reason when an ADD
// would fail now; otherwise nil. It checks only what ADD depends on and
// cannot fix itself: netfilter for the families in use, and IPAM.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args, p.NCPU)
	if err != nil {
		return err
	}
	if err := p.Firewall.Usable(false); err != nil {
		return cnierr.NotAvailable(fmt.Sprintf("iptables is not usable: %v", err))
	}
	if c.IPAMType != "" {
		if err := p.IPAM.Status(c.IPAMType, c.Raw); err != nil {
			return cnierr.NotAvailable(fmt.Sprintf("IPAM plugin %s: %v", c.IPAMType, err))
		}
	}
	return nil
}
