package main

import (
	"net"
	"net/netip"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/ifstate"
	"github.com/netsteer/netsteer/pkg/ipam"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/netrules"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/steps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Plugin is vethbridge with its side effects behind small interfaces, so
// ADD, DEL, CHECK and GC run against fakes in unit tests. main.go wires the
// kernel-backed implementations.
type Plugin struct {
	Host      HostNet
	Container ContainerNet
	Firewall  Firewall
	// SpoofCheck holds macspoofchk's per-port rules.
	SpoofCheck SpoofChecker
	IPAM       ipam.Exec
	// Leases finds and releases the addresses of attachments GC collects.
	Leases ipam.Leases
	// Sysctl is the host's /proc/sys: inherited values, forwarding and the
	// global RFS table are read and written through it.
	Sysctl sysctl.FS
	// PossibleCPUs reads the node's possible CPU count, for "rps.cpus";
	// only the verbs that apply or compare the mask ask for it.
	PossibleCPUs func() (int, error)
	// OpenNetns opens and verifies CNI_NETNS once (netns.Open); every
	// later step gets the handle, never the path.
	OpenNetns func(path string) (*netns.NS, error)
	// Steps runs ADD's steps; main.go gives it the operations log's timer.
	Steps steps.Runner
}

// HostNet is what vethbridge does in the namespace it runs in.
type HostNet interface {
	// EnsureBridge creates the bridge when missing, verifies it is a
	// bridge, and sets it up. Equivalent to: ip link add $name type bridge; ip link set $name up
	EnsureBridge(BridgeSpec) (Link, error)
	// AddVeth creates the veth pair with its peer already inside the
	// container netns and the host end up on the bridge. A stale host end
	// of the same attachment is replaced; a link of that name carrying
	// another alias is left alone (code 104, see alias.Claim).
	AddVeth(VethSpec) (host, container Link, err error)
	// DeleteLink deletes the host link called name when its alias is
	// alias or empty, and returns nil when it is absent. A link carrying
	// another alias is left alone (code 104, see alias.Claim).
	DeleteLink(name, alias string) error
	// SetRPS writes the steering settings to every rx queue of dev,
	// through a sysfs that shows this namespace's devices.
	SetRPS(dev string, s rps.Settings) error
	// EnsureAddresses puts the gateway addresses on the bridge. A different
	// address in the same subnet is an error unless force, which replaces it.
	EnsureAddresses(bridge string, addrs []netip.Prefix, force bool) error
	// Attachments lists the host veths carrying a netsteer alias.
	Attachments() ([]HostVeth, error)
	// InspectVeth reports a host veth's bridge, alias and rx queue settings.
	InspectVeth(name string) (HostVeth, error)
	// PortVLANs reports the VLAN table of the bridge port called name
	// and its bridge's default PVID; errNoVLANFiltering when the kernel
	// has no bridge VLAN filtering. Equivalent to: bridge vlan show dev $name
	PortVLANs(name string) (PortVLANTable, error)
	// NodeAddrs lists the addresses of this namespace in the families
	// fams names, except link-local ones, with the name of the link holding
	// each. Equivalent to: ip -4 addr show (-6 for IPv6)
	NodeAddrs(fams netconf.Families) ([]netconf.LinkAddr, error)
	// LinkKind reports the kind of the link called name ("bridge",
	// "veth", "device", ...), or "" when there is none.
	LinkKind(name string) (string, error)
}

// ContainerNet is what vethbridge does inside a container's netns.
type ContainerNet interface {
	// HasLink reports whether ifname exists in the netns.
	HasLink(target *netns.NS, ifname string) (bool, error)
	// Configure sets addresses and routes from res on ifname and sets it up.
	Configure(target *netns.NS, ifname string, spec AddrSpec) error
	// WriteSysctls writes each setting inside the netns, in order.
	WriteSysctls(target *netns.NS, settings []netconf.Setting) error
	// Inspect reports ifname's state and the values of keys inside the netns.
	Inspect(target *netns.NS, ifname string, keys []sysctl.Key) (ContainerState, error)
}

// Firewall owns the network-wide masquerade and forward rules, in the
// backend the config names (iptables or nftables; "" is auto).
type Firewall interface {
	// EnsureRules makes the network's rules for one family match rs,
	// removing what an older config of the network left (a masquerade
	// after ipMasq was switched off, an old subnet's). In steady state it
	// costs a netlink get or two and no exec; rules someone removed are
	// restored.
	EnsureRules(rs RuleSet) error
	// CheckRules names the first difference between the node's rules
	// and rs.
	CheckRules(rs RuleSet) error
	// RetireOtherBackend removes the network's rules from the backend
	// its config does not resolve to now, when the bridge records that
	// this backend holds some (auto flipped, or ipMasqBackend changed).
	// Otherwise it costs one netlink get and changes nothing.
	RetireOtherBackend(network, bridge, backend string) error
	// Usable reports which backend the config's choice resolves to for
	// the family and whether it can manage rules (STATUS). It is cheap
	// enough to run every few seconds and does not fail while another
	// program holds the xtables lock.
	Usable(backend string, ipv6 bool) (resolved string, err error)
}

// Link names a link and its MAC, for the result.
type Link struct {
	Name  string
	MAC   net.HardwareAddr
	Index int
}

// BridgeSpec is the bridge a network uses.
type BridgeSpec struct {
	Name          string
	MTU           int
	Promisc       bool
	VLANFiltering bool
}

// VethSpec is one attachment's veth pair.
type VethSpec struct {
	Host, Container string
	Netns           *netns.NS
	Bridge          string
	Alias           string
	MTU             int
	MAC             net.HardwareAddr
	Hairpin         bool
	Isolated        bool
	VLANs           PortVLANs
}

// AddrSpec is the container interface's L3 config.
type AddrSpec struct {
	Result     *current.Result
	DisableDAD bool
}

// HostVeth is a host veth as the kernel reports it.
type HostVeth struct {
	Name   string
	Alias  string
	Master string
	Queues map[string]rps.Settings
}

// ContainerState is the container interface as the kernel reports it.
type ContainerState struct {
	MAC net.HardwareAddr
	Up  bool
	ifstate.L3
	Sysctls map[sysctl.Key]string
}

// RuleSet is one family's network-wide netfilter rules and the backend
// that holds them. It depends only on the network's config, so every ADD
// of the network asks for the same set.
type RuleSet struct {
	Network string
	IPv6    bool
	Bridge  string
	// Backend is ipMasqBackend: BackendIPTables, BackendNFTables, or "" (auto).
	Backend string
	// Masquerade is ipMasq; Subnets are the pod subnets whose traffic
	// leaving the node is masqueraded, NoMasq the destinations exempt.
	Masquerade bool
	Subnets    []netip.Prefix
	NoMasq     []netip.Prefix
}

// ipam is the config's IPAM plugin, bound once: a no-op without IPAM.
func (p *Plugin) ipam(c *Config) ipam.Client {
	return ipam.Client{Type: c.IPAMType, Conf: c.Raw, Network: c.Network, Exec: p.IPAM, Leases: p.Leases}
}

// The values of ipMasqBackend.
const (
	BackendIPTables = "iptables"
	BackendNFTables = "nftables"
)

func (rs RuleSet) set() netrules.Set {
	return netrules.Set{Network: rs.Network, IPv6: rs.IPv6, Bridge: rs.Bridge,
		Masquerade: rs.Masquerade, Subnets: rs.Subnets, NoMasq: rs.NoMasq}
}
