package main

import (
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

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
	return p.ipam(c).Status()
}

func (p *Plugin) masterReady(name string) error {
	m, err := p.Masters.Lookup(nil, name)
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
