package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/alias"
	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/ipam/ipamtest"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/podns/podnstest"
	"github.com/netsteer/netsteer/pkg/sysctl"
	"github.com/netsteer/netsteer/pkg/sysctl/sysctltest"
)

// fakeNode is the world ipvlan touches, in memory: masters and default
// routes per netns ("" is the plugin's own), container links, container
// sysctls and IPAM reservations. It renders as sorted text, so tests
// compare worlds as strings. fail makes the named method return an error,
// to inject a failure at each ADD step in turn.
type fakeNode struct {
	masters      map[string]map[string]Master // netns → name → master
	defaultRoute map[string]string            // netns → master name
	links        map[string]map[string]fakeLink
	sysctls      podnstest.Sysctls // netns path + ":" + key path → value
	hostProc     string            // the host's /proc/sys, a temp dir
	ipam         *ipamtest.Fake
	fail         map[string]error
	// portDir holds the masters' port records, a temp dir.
	portDir string
}

// fakeLink is a container link; MTU is kept apart from ContainerState,
// which does not report it.
type fakeLink struct {
	ContainerState
	MTU int
}

var (
	_ Masters      = (*fakeMasters)(nil)
	_ ContainerNet = (*fakeContainer)(nil)
)

// newFakeNode makes a node with master "nstm0" (index 7, MTU 1500, up)
// carrying the default route, and the given empty container netns.
func newFakeNode(t *testing.T, netnsPaths ...string) *fakeNode {
	t.Helper()
	n := &fakeNode{
		masters:      map[string]map[string]Master{"": {"nstm0": {Name: "nstm0", Index: 7, MTU: 1500, Up: true}}},
		defaultRoute: map[string]string{"": "nstm0"},
		links:        map[string]map[string]fakeLink{}, sysctls: podnstest.Fresh(netnsPaths...),
		fail: map[string]error{}, portDir: t.TempDir(),
	}
	n.ipam = ipamtest.New("10.23.0.0/24")
	n.ipam.Fail = n.fail // one failure table for the whole world
	n.ipam.Routes = []*types.Route{{Dst: net.IPNet{IP: net.IPv4(10, 99, 0, 0).To4(), Mask: net.CIDRMask(16, 32)}, GW: net.IPv4(10, 23, 0, 1)}}
	n.hostProc = sysctltest.Tree(t, map[string]string{
		"net/ipv4/tcp_keepalive_time":  "600",
		"net/ipv4/tcp_keepalive_intvl": "75",
	}).Root
	for _, p := range netnsPaths {
		n.links[p] = map[string]fakeLink{}
	}
	return n
}

func (n *fakeNode) plugin() *Plugin {
	return &Plugin{
		Masters: &fakeMasters{n}, Container: &fakeContainer{n}, IPAM: n.ipam, Leases: n.ipam,
		Sysctl: sysctl.FS{Root: n.hostProc}, OpenNetns: n.openNetns, Ports: portBook{Dir: n.portDir},
	}
}

func (n *fakeNode) failing(method string) error { return n.fail[method] }

// String renders the world, one sorted line per object.
func (n *fakeNode) String() string {
	var lines []string
	for path, links := range n.links {
		for name, l := range links {
			lines = append(lines, fmt.Sprintf("netns %s link %s kind=%s parent=%d mode=%s flag=%s mtu=%d alias=%s up=%v addrs=%v routes=%v",
				path, name, l.Kind, l.ParentIndex, l.Mode, l.Flag, l.MTU, l.Alias, l.Up, l.Addrs, l.Routes))
		}
	}
	for k, v := range n.sysctls {
		lines = append(lines, fmt.Sprintf("sysctl %s=%s", k, v))
	}
	lines = append(lines, n.ipam.Lines()...)
	lines = append(lines, n.portLines()...)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// perAttachment renders what one attachment owns: container links and
// IPAM reservations. Sysctls written into the container netns stay with
// the netns, which the runtime owns.
func (n *fakeNode) perAttachment() string {
	var keep []string
	for _, l := range strings.Split(n.String(), "\n") {
		if strings.HasPrefix(l, "netns ") || strings.HasPrefix(l, "ipam ") || strings.HasPrefix(l, "port ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// portLines renders the masters' port records, one line an attachment.
func (n *fakeNode) portLines() []string {
	files, _ := filepath.Glob(filepath.Join(n.portDir, portFilePrefix+"*.json"))
	var lines []string
	for _, f := range files {
		var r portRecord
		raw, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(raw, &r)
		}
		if err != nil {
			lines = append(lines, fmt.Sprintf("port %s unreadable: %v", f, err))
		}
		for _, e := range r.Attachments {
			lines = append(lines, fmt.Sprintf("port %s %s/%s/%s netns=%s mode=%s flag=%s", r.Master, e.Network, e.ContainerID, e.IfName, e.Netns, e.Mode, e.Flag))
		}
	}
	return lines
}

type fakeMasters struct{ n *fakeNode }

func (m *fakeMasters) Lookup(target *netns.NS, name string) (Master, error) {
	netns := target.String()
	if err := m.n.failing("Lookup"); err != nil {
		return Master{}, err
	}
	if name == "" {
		name = m.n.defaultRoute[netns]
		if name == "" {
			return Master{}, errors.New("there is no default route")
		}
	}
	master, ok := m.n.masters[netns][name]
	if !ok {
		return Master{}, fmt.Errorf("looking up link %s: Link not found", name)
	}
	return master, nil
}

type fakeContainer struct{ n *fakeNode }

func (c *fakeContainer) netns(path string) (map[string]fakeLink, error) {
	links, ok := c.n.links[path]
	if !ok {
		return nil, fmt.Errorf("opening netns %s: no such file or directory", path)
	}
	return links, nil
}

func (c *fakeContainer) HasLink(target *netns.NS, ifname string) (bool, error) {
	netns := target.String()
	links, err := c.netns(netns)
	if err != nil {
		return false, err
	}
	_, has := links[ifname]
	return has, nil
}

func (c *fakeContainer) AddIPVlan(spec IPVlanSpec) error {
	links, err := c.netns(spec.Netns.String())
	if err != nil {
		return err
	}
	if l, ok := links[spec.Name]; ok && l.Kind == "ipvlan" {
		if err := alias.Claim(spec.Name, l.Alias, spec.Alias); err != nil {
			return err
		}
		delete(links, spec.Name)
	}
	if _, ok := links[spec.Name]; ok {
		return fmt.Errorf("creating ipvlan %s: file exists", spec.Name)
	}
	mtu := spec.MTU
	if mtu == 0 {
		mtu = spec.Master.MTU
	}
	links[spec.Name] = fakeLink{MTU: mtu, ContainerState: ContainerState{
		Kind: "ipvlan", Mode: spec.Mode, Flag: spec.Flag, ParentIndex: spec.Master.Index,
		MAC: net.HardwareAddr{2, 0, 0, 0, 0, 7},
	}}
	// The failure comes between creating the link and setting its alias,
	// as in the kernel adapter: DEL must find it by its temporary name.
	if err := c.n.failing("AddIPVlan"); err != nil {
		return err
	}
	l := links[spec.Name]
	l.Alias = spec.Alias
	links[spec.Name] = l
	return nil
}

func (c *fakeContainer) Rename(target *netns.NS, from, to string) (Link, error) {
	netns := target.String()
	if err := c.n.failing("Rename"); err != nil {
		return Link{}, err
	}
	links, err := c.netns(netns)
	if err != nil {
		return Link{}, err
	}
	l, ok := links[from]
	if !ok {
		return Link{}, fmt.Errorf("looking up %s: Link not found", from)
	}
	if _, taken := links[to]; taken {
		return Link{}, fmt.Errorf("renaming %s to %s: file exists", from, to)
	}
	delete(links, from)
	links[to] = l
	return Link{Name: to, MAC: l.MAC}, nil
}

func (c *fakeContainer) DeleteIPVlan(target *netns.NS, name string, owner LinkOwner) error {
	netns := target.String()
	if err := c.n.failing("DeleteIPVlan"); err != nil {
		return err
	}
	links, ok := c.n.links[netns]
	if !ok {
		return nil // the netns is gone
	}
	if l, ok := links[name]; ok && l.Kind == "ipvlan" && (l.Alias == owner.Alias || owner.Unaliased && l.Alias == "") {
		delete(links, name)
	}
	return nil
}

func (c *fakeContainer) FindIPVlan(target *netns.NS, name, alias string) (Slave, bool, error) {
	if err := c.n.failing("FindIPVlan"); err != nil {
		return Slave{}, false, err
	}
	l, ok := c.n.links[target.String()][name]
	if !ok || l.Kind != "ipvlan" || l.Alias != alias {
		return Slave{}, false, nil
	}
	return Slave{Name: name, Alias: l.Alias, Mode: l.Mode, Flag: l.Flag}, true, nil
}

func (c *fakeContainer) Configure(target *netns.NS, ifname string, res *current.Result) error {
	netns := target.String()
	links, err := c.netns(netns)
	if err != nil {
		return err
	}
	l, ok := links[ifname]
	if !ok {
		return fmt.Errorf("looking up %s: Link not found", ifname)
	}
	l.Up = true
	for _, ip := range res.IPs {
		if ip.Interface == nil || res.Interfaces[*ip.Interface].Name != ifname {
			return fmt.Errorf("IP %s is not for %s", ip.Address.String(), ifname)
		}
		p, _ := nlx.Prefix(ip.Address)
		l.Addrs = append(l.Addrs, p)
	}
	links[ifname] = l
	// The failure comes after the addresses, as a failing route add would.
	if err := c.n.failing("Configure"); err != nil {
		return err
	}
	l.Routes = append(l.Routes, podnstest.Routes(res.Routes)...)
	links[ifname] = l
	return nil
}

func (c *fakeContainer) WriteSysctls(target *netns.NS, settings []netconf.Setting) error {
	return c.n.sysctls.Write(target, settings, c.n.failing("WriteSysctls"))
}

func (c *fakeContainer) Inspect(target *netns.NS, ifname string, keys []sysctl.Key) (ContainerState, error) {
	netns := target.String()
	links, err := c.netns(netns)
	if err != nil {
		return ContainerState{}, err
	}
	l, ok := links[ifname]
	if !ok {
		return ContainerState{}, errors.New("Link not found")
	}
	st := l.ContainerState
	st.Addrs = slices.Clone(st.Addrs)
	st.Sysctls = c.n.sysctls.Read(target, keys)
	return st, nil
}

// openNetns opens a netns of the fake world; the handle holds no namespace.
func (n *fakeNode) openNetns(path string) (*netns.NS, error) {
	if _, ok := n.links[path]; !ok {
		return nil, cnierr.InvalidEnv("CNI_NETNS", path, "cannot open: no such file or directory")
	}
	return &netns.NS{Path: path}, nil
}
