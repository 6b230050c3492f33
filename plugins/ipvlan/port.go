package main

import (
	"fmt"

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
