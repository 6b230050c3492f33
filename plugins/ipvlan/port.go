package main

import (
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/alias"
	"github.com/netsteer/netsteer/pkg/cnierr"
)

// portConflict refuses a master that cannot carry this config's link
// (issue 9, class 10). Mode and flag belong to the master's ipvlan port,
// not to one link: the kernel applies the last ADD's to every link on the
// master, so an l3 ADD would turn existing l2 pods into l3 and a "bridge"
// ADD would let a "private" network's pods reach each other. A master
// whose existing links disagree is a config error, code 7, naming the
// port's mode or flag and the network of the link holding it. A master
// that is itself an ipvlan link, or the loopback device, is code 7 too:
// the kernel refuses it only later, as a kernel error.
func portConflict(c *Config, m Master) error {
	switch {
	case m.Kind == "ipvlan":
		return cnierr.InvalidConfig("master", m.Name, "is itself an ipvlan link; give the device it sits on")
	case m.Loopback:
		return cnierr.InvalidConfig("master", m.Name, "is a loopback device, which cannot carry ipvlan links")
	}
	for _, s := range m.Slaves {
		if s.Mode != c.Mode {
			return cnierr.InvalidConfig("mode", c.Mode, portHolder(m, s, fmt.Sprintf("mode %s", s.Mode)))
		}
		if s.Flag != c.Flag {
			return cnierr.InvalidConfig("flag", c.Flag, portHolder(m, s, fmt.Sprintf("flag %s", s.Flag)))
		}
	}
	return nil
}

// portHolder says why the port's setting cannot change, naming the link
// that holds it and, from its alias, the network of its pod.
func portHolder(m Master, s Slave, setting string) string {
	who := fmt.Sprintf("ipvlan link %s", s.Name)
	if network, id, ifname, ok := alias.Parse(s.Alias); ok {
		who = fmt.Sprintf("%s of network %q (container %s, %s)", who, network, id, ifname)
	}
	return fmt.Sprintf("master %s's ipvlan port is in %s, held by %s; every link on a master shares its mode and flag, so this ADD would change them for all", m.Name, setting, who)
}

// claimPort records this attachment on the master's ipvlan port and
// returns the record still locked: ADD holds it until its link exists, so
// no concurrent ADD can put a link of another mode or flag on the master
// in between. It refuses with code 7, changing nothing, when an
// attachment of another mode or flag is still on the port, naming the
// port's mode or flag and that attachment's network (issue 9, class 10).
// A master in the pod's netns (linkInContainer) keeps its links where
// Lookup lists them, so portConflict covers it and nothing is recorded.
func (p *Plugin) claimPort(c *Config, args *skel.CmdArgs, m Master) (*portLock, error) {
	if c.LinkInContainer {
		return nil, nil
	}
	l, err := p.Ports.lock(m.Index)
	if err != nil {
		return nil, cnierr.Wrap(cnierr.Kernel, err)
	}
	me := portEntry{Network: c.Network, ContainerID: args.ContainerID, IfName: args.IfName, Netns: args.Netns, Mode: c.Mode, Flag: c.Flag}
	kept, err := p.livePort(c, m, l, me)
	if err != nil {
		l.close()
		return nil, err
	}
	if err := l.write(portRecord{Master: m.Name, Attachments: append(kept, me)}); err != nil {
		l.close()
		return nil, cnierr.Wrap(cnierr.Kernel, err)
	}
	return l, nil
}

// livePort is the master's record without this attachment's entries and
// without those that disagree with c but whose link is gone; it refuses
// when one that disagrees is still there.
func (p *Plugin) livePort(c *Config, m Master, l *portLock, me portEntry) ([]portEntry, error) {
	r, err := l.read()
	if err != nil {
		return nil, cnierr.Wrap(cnierr.Kernel, err)
	}
	var kept []portEntry
	for _, e := range r.Attachments {
		switch {
		case e.same(me):
			continue
		case e.Mode == c.Mode && e.Flag == c.Flag:
			kept = append(kept, e)
			continue
		}
		s, live, err := p.attachedLink(e)
		if err != nil {
			return nil, cnierr.Wrap(cnierr.Kernel, err)
		}
		if !live {
			continue // its pod is gone: the entry no longer holds the port
		}
		if err := portConflict(c, Master{Name: m.Name, Slaves: []Slave{s}}); err != nil {
			return nil, err
		}
		kept = append(kept, e)
	}
	return kept, nil
}

// attachedLink reports the entry's link as the kernel sees it now: the
// ipvlan in the entry's netns, under CNI_IFNAME or the temporary name,
// carrying the entry's alias. A netns that no longer opens took the link
// with it.
func (p *Plugin) attachedLink(e portEntry) (Slave, bool, error) {
	target, err := p.OpenNetns(e.Netns)
	if err != nil {
		return Slave{}, false, nil
	}
	defer target.Close()
	want := linkAlias(e.Network, e.ContainerID, e.IfName)
	for _, name := range []string{e.IfName, tempName(e.Network, e.ContainerID, e.IfName)} {
		s, ok, err := p.Container.FindIPVlan(target, name, want)
		if err != nil || ok {
			return s, ok, err
		}
	}
	return Slave{}, false, nil
}
