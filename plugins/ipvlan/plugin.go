package main

import (
	"net"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/ifstate"
	"github.com/netsteer/netsteer/pkg/ipam"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/steps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Plugin is ipvlan with its side effects behind small interfaces, so ADD,
// DEL, CHECK, GC and STATUS run against fakes in unit tests. main.go wires
// the kernel-backed implementations.
type Plugin struct {
	Masters   Masters
	Container ContainerNet
	IPAM      ipam.Exec
	// Leases finds and releases the addresses of attachments GC collects.
	Leases ipam.Leases
	// Sysctl is the host's /proc/sys, read for inheritSysctls.
	Sysctl sysctl.FS
	// OpenNetns opens and verifies CNI_NETNS once (netns.Open); every
	// later step gets the handle, never the path.
	OpenNetns func(path string) (*netns.NS, error)
	// Ports records which attachments hold each node master's ipvlan
	// port (/run/netsteer), for the links ADD cannot see from the node.
	Ports portBook
	// Steps runs ADD's steps; main.go gives it the operations log's timer.
	Steps steps.Runner
}

// Masters finds the device ipvlan links hang off.
type Masters interface {
	// Lookup reports the master in target (nil is the plugin's own netns): the link called name, or, when name is empty, the interface of
	// the first default route. A missing link or route is an error.
	// Equivalent to: ip link show $name / ip route show default
	Lookup(target *netns.NS, name string) (Master, error)
}

// ContainerNet is what ipvlan does inside a container's netns. Every
// method enters the netns itself.
type ContainerNet interface {
	// HasLink reports whether ifname exists in the netns.
	HasLink(target *netns.NS, ifname string) (bool, error)
	// AddIPVlan creates the link, down, in the netns under spec.Name with
	// spec.Alias. A leftover ipvlan of that name is replaced first.
	// Equivalent to: ip link add $name link $master netns $ns type ipvlan mode $mode $flag
	AddIPVlan(spec IPVlanSpec) error
	// Rename renames the link from → to and reports it.
	// Equivalent to: ip -n $ns link set $from name $to
	Rename(target *netns.NS, from, to string) (Link, error)
	// DeleteIPVlan deletes the ipvlan called name when owner may (see
	// LinkOwner). It returns nil when the link is absent, is not an
	// ipvlan, or is another's, which stays.
	DeleteIPVlan(target *netns.NS, name string, owner LinkOwner) error
	// FindIPVlan reports the ipvlan called name in the netns when its
	// alias is alias, with its port's mode and flag.
	// Equivalent to: ip -n $ns -d link show $name type ipvlan
	FindIPVlan(target *netns.NS, name, alias string) (Slave, bool, error)
	// Configure puts res's addresses and routes on ifname and sets it up.
	Configure(target *netns.NS, ifname string, res *current.Result) error
	// WriteSysctls writes each setting inside the netns, in order.
	WriteSysctls(target *netns.NS, settings []netconf.Setting) error
	// Inspect reports ifname's state and the values of keys in the netns.
	Inspect(target *netns.NS, ifname string, keys []sysctl.Key) (ContainerState, error)
}

// LinkOwner says which link of a name is ours to delete: the one whose
// alias is Alias, and with Unaliased also one without an alias, which an
// ADD leaves when it crashed between creating the link under its
// temporary name and setting the alias. A link of that name carrying any
// other alias is another attachment's whose name collides with ours
// (issue 9, class 5).
type LinkOwner struct {
	Alias     string
	Unaliased bool
}

// Master is the parent device as the kernel reports it.
type Master struct {
	Name  string
	Index int
	MTU   int
	Up    bool
	// Kind is the link's kind ("ipvlan", "veth", "device", ...);
	// Loopback reports IFF_LOOPBACK.
	Kind     string
	Loopback bool
	// Slaves are the ipvlan links on this master that Lookup can see: those
	// in the netns it looked in. They share the master's one ipvlan port.
	Slaves []Slave
}

// Slave is an ipvlan link on a master, as the kernel reports it.
type Slave struct {
	Name, Alias string
	Mode        Mode
	Flag        Flag
}

// IPVlanSpec is one attachment's link.
type IPVlanSpec struct {
	Netns *netns.NS
	Name  string
	Alias string
	// Master is looked up in Netns when MasterInContainer, else in the
	// plugin's own netns.
	Master            Master
	MasterInContainer bool
	Mode              Mode
	Flag              Flag
	// MTU 0 leaves the kernel's choice: the master's MTU.
	MTU int
}

// Link names a link, for the result.
type Link struct {
	Name  string
	MAC   net.HardwareAddr
	Index int
}

// ContainerState is the container interface as the kernel reports it.
type ContainerState struct {
	// Kind is the link type ("ipvlan"); Mode and Flag are set for ipvlan.
	Kind        string
	Mode        Mode
	Flag        Flag
	ParentIndex int
	Alias       string
	MAC         net.HardwareAddr
	Up          bool
	ifstate.L3
	Sysctls map[sysctl.Key]string
}

// ipam is the config's IPAM plugin, bound once: a no-op without IPAM.
func (p *Plugin) ipam(c *Config) ipam.Client {
	return ipam.Client{Type: c.IPAMType, Conf: c.Raw, Network: c.Network, Exec: p.IPAM, Leases: p.Leases}
}
