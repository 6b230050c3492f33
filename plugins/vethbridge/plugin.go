package main

import (
	"net"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Plugin is vethbridge with its side effects behind small interfaces, so
// ADD, DEL, CHECK and GC run against fakes in unit tests. main.go wires the
// kernel-backed implementations.
type Plugin struct {
	Host      HostNet
	Container ContainerNet
	Firewall  Firewall
	IPAM      IPAM
	// Leases finds and releases the addresses of attachments GC collects.
	Leases Leases
	// Sysctl is the host's /proc/sys: inherited values, forwarding and the
	// global RFS table are read and written through it.
	Sysctl sysctl.FS
	// NCPU is the node's possible CPU count, for "rps.cpus".
	NCPU int
}

// HostNet is what vethbridge does in the namespace it runs in.
type HostNet interface {
	// EnsureBridge creates the bridge when missing, verifies it is a
	// bridge, and sets it up. Equivalent to: ip link add $name type bridge; ip link set $name up
	EnsureBridge(BridgeSpec) (Link, error)
	// AddVeth creates the veth pair with its peer already inside the
	// container netns and the host end up on the bridge. A stale host end
	// of the same attachment is replaced.
	AddVeth(VethSpec) (host, container Link, err error)
	// DeleteLink deletes a host link and returns nil when it is absent.
	DeleteLink(name string) error
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
	// NodeAddrs lists the addresses of this namespace, except link-local
	// ones, with the name of the link holding each. Equivalent to: ip addr show
	NodeAddrs() ([]netconf.LinkAddr, error)
	// LinkKind reports the kind of the link called name ("bridge",
	// "veth", "device", ...), or "" when there is none.
	LinkKind(name string) (string, error)
}

// ContainerNet is what vethbridge does inside a container's netns.
type ContainerNet interface {
	// HasLink reports whether ifname exists in the netns.
	HasLink(netns, ifname string) (bool, error)
	// Configure sets addresses and routes from res on ifname and sets it up.
	Configure(netns, ifname string, spec AddrSpec) error
	// WriteSysctls writes each setting inside the netns, in order.
	WriteSysctls(netns string, settings []netconf.Setting) error
	// Inspect reports ifname's state and the values of keys inside the netns.
	Inspect(netns, ifname string, keys []sysctl.Key) (ContainerState, error)
}

// Firewall owns the network-wide masquerade and forward rules.
type Firewall interface {
	// EnsureRules makes the network's rules for one family match rs;
	// a no-op when they are known to be in place.
	EnsureRules(rs RuleSet) error
	// CheckRules names the first rule of rs that is missing.
	CheckRules(rs RuleSet) error
	// Usable reports whether rules can be managed at all (STATUS).
	Usable(ipv6 bool) error
}

// IPAM runs the delegated IPAM plugin with the network config.
type IPAM interface {
	Add(plugin string, conf []byte) (*current.Result, error)
	Del(plugin string, conf []byte) error
	Check(plugin string, conf []byte) error
	GC(plugin string, conf []byte) error
	Status(plugin string, conf []byte) error
}

// Leases is what GC needs from IPAM beyond forwarding GC to it: who holds
// an address, and releasing an attachment other than the one in the
// environment.
type Leases interface {
	// Holders lists the attachments holding an address of network; nil
	// for IPAM plugins whose store vethbridge cannot read.
	Holders(plugin string, conf []byte, network string) ([]types.GCAttachment, error)
	// Release runs the IPAM plugin's DEL for attachment a.
	Release(plugin string, conf []byte, a types.GCAttachment) error
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
	Netns           string
	Bridge          string
	Alias           string
	MTU             int
	MAC             net.HardwareAddr
	Hairpin         bool
	Isolated        bool
	VLAN            int
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
	nlx.L3
	Sysctls map[sysctl.Key]string
}

// RuleSet is one family's network-wide netfilter rules. It depends only
// on the network, so every ADD of the network asks for the same set.
type RuleSet struct {
	Network string
	IPv6    bool
	Bridge  string
	// Masquerade is ipMasq; Subnets are the pod subnets whose traffic
	// leaving the node is masqueraded, NoMasq the destinations exempt.
	Masquerade bool
	Subnets    []netip.Prefix
	NoMasq     []netip.Prefix
}
