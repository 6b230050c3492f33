package main

import (
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// GC is CNI GC. An ipvlan attachment owns no object in the plugin's own
// netns: its only kernel object, the link, lives in the container netns
// and dies with it. So GC has nothing of its own to collect and forwards
// to IPAM, which receives cni.dev/valid-attachments in the config and
// releases the addresses of every other attachment.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	c, err := Load(args.StdinData, args.Args)
	if err != nil {
		return err
	}
	if c.IPAMType == "" {
		return nil
	}
	if err := p.IPAM.GC(c.IPAMType, c.Raw); err != nil {
		return cnierr.Wrap(cnierr.IPAM, fmt.Errorf("IPAM GC with %s: %w", c.IPAMType, err))
	}
	return nil
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
