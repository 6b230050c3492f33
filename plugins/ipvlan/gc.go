package main

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// GC is CNI GC. An ipvlan attachment owns no object in the plugin's own
// netns: its only kernel object, the link, lives in the container netns
// and dies with it. What outlives it is the address: GC releases the
// reservation of every attachment IPAM holds that is not in
// cni.dev/valid-attachments (absent means none is valid), then forwards
// GC to IPAM, which receives the list in the config.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args)
	if err != nil {
		return err
	}
	if c.IPAMType == "" {
		return nil
	}
	valid := map[types.GCAttachment]bool{}
	for _, a := range c.ValidAttachments {
		valid[a] = true
	}
	holders, err := p.Leases.Holders(c.IPAMType, c.Raw, c.Network)
	if err != nil {
		return cnierr.IPAMError("listing "+c.IPAMType+" reservations", err)
	}
	var errs []error
	for _, a := range holders {
		if valid[a] {
			continue
		}
		if err := p.Leases.Release(c.IPAMType, c.Raw, a); err != nil {
			errs = append(errs, cnierr.IPAMError(fmt.Sprintf("releasing addresses of %s/%s with %s", a.ContainerID, a.IfName, c.IPAMType), err))
		}
	}
	if err := p.IPAM.GC(c.IPAMType, c.Raw); err != nil {
		errs = append(errs, cnierr.IPAMError("IPAM GC with "+c.IPAMType, err))
	}
	return errors.Join(errs...)
}

// Status is CNI STATUS: an error (code 50) naming the reason when an ADD
// would fail now, otherwise nil. It checks the master in the plugin's
// netns and IPAM. Without "master" it checks the default route's
// interface, the one an unchained ADD would take (STATUS gets no
// prevResult, so a chained config should name its master). A master inside
// the container (linkInContainer) cannot be seen without a container, so
// STATUS then checks IPAM only rather than fail spuriously.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args)
	if err != nil {
		return err
	}
	if !c.LinkInContainer {
		if err := p.masterReady(c.Master); err != nil {
			return cnierr.NotAvailable(err.Error())
		}
	}
	if c.IPAMType != "" {
		if err := p.IPAM.Status(c.IPAMType, c.Raw); err != nil {
			return cnierr.NotAvailable(fmt.Sprintf("IPAM plugin %s: %v", c.IPAMType, err))
		}
	}
	return nil
}

func (p *Plugin) masterReady(name string) error {
	m, err := p.Masters.Lookup("", name)
	switch {
	case err != nil && name == "":
		return fmt.Errorf("no master given and finding the default-route interface: %w", err)
	case err != nil:
		return fmt.Errorf("master %s: %w", name, err)
	case !m.Up:
		return fmt.Errorf("master %s is down", m.Name)
	}
	return nil
}
