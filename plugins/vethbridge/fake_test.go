package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/alias"
	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/ipam/ipamtest"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/netrules"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/podns/podnstest"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/sysctl"
	"github.com/netsteer/netsteer/pkg/sysctl/sysctltest"
)

// fakeNode is the whole world vethbridge touches, in memory: host links,
// container links, sysctls, IPAM reservations and rules. It renders as
// sorted text, so a test compares worlds with one string comparison.
// fail makes the named method return an error, to inject a failure at
// each ADD step in turn.
type fakeNode struct {
	links    map[string]HostVeth // host netns, by name
	bridges  map[string][]netip.Prefix
	netns    map[string]map[string]ContainerState // netns path → ifname → state
	sysctls  podnstest.Sysctls                    // container sysctls: netns path + ":" + key
	hostProc string                               // the host's /proc/sys, a temp dir
	ipam     *ipamtest.Fake
	rules    map[string]bool
	spoof    map[string]string            // macspoofchk: port → "network mac"
	vlans    map[string]map[int]vlanFlags // bridge port → VLAN ID → flags
	fail     map[string]error
	// nodeAddrLists counts NodeAddrs calls, which may come from
	// concurrent checks.
	nodeAddrLists atomic.Int32
}

var (
	_ HostNet      = (*fakeHost)(nil)
	_ ContainerNet = (*fakeContainer)(nil)
	_ Firewall     = (*fakeFirewall)(nil)
)

// newFakeNode makes a node whose host /proc/sys is a temp dir holding
// the keys vethbridge reads, and the given (empty) container netns.
func newFakeNode(t *testing.T, netnsPaths ...string) *fakeNode {
	t.Helper()
	n := &fakeNode{
		links: map[string]HostVeth{}, bridges: map[string][]netip.Prefix{},
		netns: map[string]map[string]ContainerState{},
		rules: map[string]bool{}, spoof: map[string]string{}, vlans: map[string]map[int]vlanFlags{}, fail: map[string]error{}, sysctls: podnstest.Fresh(netnsPaths...),
	}
	n.ipam = ipamtest.New("10.22.0.0/16")
	n.ipam.Fail = n.fail // one failure table for the whole world
	n.hostProc = sysctltest.Tree(t, map[string]string{
		"net/ipv4/ip_forward":            "0",
		"net/ipv6/conf/all/forwarding":   "0",
		"net/ipv4/tcp_keepalive_time":    "600",
		"net/ipv4/tcp_keepalive_intvl":   "75",
		"net/core/rps_sock_flow_entries": "0",
	}).Root
	for _, p := range netnsPaths {
		n.netns[p] = map[string]ContainerState{}
	}
	return n
}

func (n *fakeNode) plugin() *Plugin {
	return &Plugin{
		Host: &fakeHost{n}, Container: &fakeContainer{n}, Firewall: &fakeFirewall{n}, SpoofCheck: &fakeSpoofCheck{n},
		IPAM: n.ipam, Leases: n.ipam, Sysctl: sysctl.FS{Root: n.hostProc}, PossibleCPUs: func() (int, error) { return 4, nil },
		OpenNetns: n.openNetns,
	}
}

func (n *fakeNode) failing(method string) error {
	if err, ok := n.fail[method]; ok {
		return err
	}
	return nil
}

// String renders the world, one sorted line per object.
func (n *fakeNode) String() string {
	var lines []string
	for name, v := range n.links {
		lines = append(lines, fmt.Sprintf("host link %s master=%s alias=%s queues=%v", name, v.Master, v.Alias, v.Queues))
	}
	for name, addrs := range n.bridges {
		lines = append(lines, fmt.Sprintf("host bridge %s addrs=%v", name, addrs))
	}
	for path, links := range n.netns {
		for ifname, st := range links {
			lines = append(lines, fmt.Sprintf("netns %s link %s up=%v addrs=%v routes=%v", path, ifname, st.Up, st.Addrs, st.Routes))
		}
	}
	for k, v := range n.sysctls {
		lines = append(lines, fmt.Sprintf("sysctl %s=%s", k, v))
	}
	lines = append(lines, n.ipam.Lines()...)
	for r := range n.rules {
		lines = append(lines, "rule "+r)
	}
	for port, r := range n.spoof {
		lines = append(lines, "spoofchk "+port+" "+r)
	}
	for port, vs := range n.vlans {
		for id, f := range vs {
			lines = append(lines, fmt.Sprintf("vlan %s %d %s", port, id, f))
		}
	}
	_ = filepath.WalkDir(n.hostProc, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(n.hostProc, p)
			lines = append(lines, fmt.Sprintf("host sysctl %s=%s", rel, strings.TrimSpace(string(b))))
		}
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

type fakeHost struct{ n *fakeNode }

func (h *fakeHost) EnsureBridge(spec BridgeSpec) (Link, error) {
	if err := h.n.failing("EnsureBridge"); err != nil {
		return Link{}, err
	}
	if _, ok := h.n.bridges[spec.Name]; !ok {
		h.n.bridges[spec.Name] = nil
	}
	return Link{Name: spec.Name, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}, nil
}

func (h *fakeHost) AddVeth(spec VethSpec) (Link, Link, error) {
	links, ok := h.n.netns[spec.Netns.String()]
	if !ok {
		return Link{}, Link{}, fmt.Errorf("netns %s: %w", spec.Netns, errors.New("no such file"))
	}
	if v, ok := h.n.links[spec.Host]; ok {
		if err := alias.Claim(spec.Host, v.Alias, spec.Alias); err != nil {
			return Link{}, Link{}, err
		}
	}
	h.n.links[spec.Host] = HostVeth{Name: spec.Host, Alias: spec.Alias, Master: spec.Bridge}
	h.n.setPortVLANs(spec.Host, spec.VLANs)
	links[spec.Container] = ContainerState{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	// The failure comes after creation: the step half-ran, DEL must clean it.
	if err := h.n.failing("AddVeth"); err != nil {
		return Link{}, Link{}, err
	}
	return Link{Name: spec.Host, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 3}}, Link{Name: spec.Container, MAC: links[spec.Container].MAC}, nil
}

func (h *fakeHost) DeleteLink(name, own string) error {
	if err := h.n.failing("DeleteLink"); err != nil {
		return err
	}
	v, ok := h.n.links[name]
	if !ok {
		return nil
	}
	if err := alias.Claim(name, v.Alias, own); err != nil {
		return err
	}
	delete(h.n.links, name)
	delete(h.n.vlans, name)
	// Deleting one end of a veth deletes its peer, wherever it is.
	if _, id, ifname, ok := parseAlias(v.Alias); ok {
		for path, links := range h.n.netns {
			if _, has := links[ifname]; has && strings.Contains(path, id) {
				delete(links, ifname)
			}
		}
	}
	return nil
}

func (h *fakeHost) SetRPS(dev string, s rps.Settings) error {
	if err := h.n.failing("SetRPS"); err != nil {
		return err
	}
	v, ok := h.n.links[dev]
	if !ok {
		return fmt.Errorf("no device %s", dev)
	}
	v.Queues = map[string]rps.Settings{"rx-0": s}
	h.n.links[dev] = v
	return nil
}

func (h *fakeHost) EnsureAddresses(bridge string, addrs []netip.Prefix, force bool) error {
	if err := h.n.failing("EnsureAddresses"); err != nil {
		return err
	}
	for _, a := range addrs {
		if !containsPrefix(h.n.bridges[bridge], a) {
			h.n.bridges[bridge] = append(h.n.bridges[bridge], a)
		}
	}
	return nil
}

func containsPrefix(list []netip.Prefix, p netip.Prefix) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

func (h *fakeHost) Attachments() ([]HostVeth, error) {
	var out []HostVeth
	for _, v := range h.n.links {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (h *fakeHost) InspectVeth(name string) (HostVeth, error) {
	v, ok := h.n.links[name]
	if !ok {
		return HostVeth{}, errors.New("link not found")
	}
	return v, nil
}

// fakeDefaultPVID is every fake bridge's vlan_default_pvid.
const fakeDefaultPVID = 1

// setPortVLANs programs a new port as a kernel with bridge VLAN filtering
// does: every port starts with the bridge's default PVID (whether or not
// the bridge filters), and re-adding a VLAN sets its flags anew.
func (n *fakeNode) setPortVLANs(port string, p PortVLANs) {
	vs := map[int]vlanFlags{fakeDefaultPVID: {PVID: true, Untagged: true}}
	if p.Flush {
		vs = map[int]vlanFlags{}
	}
	for _, v := range p.Set {
		for id := v.Min; id <= v.Max; id++ {
			for other, f := range vs {
				if v.PVID {
					f.PVID = false
					vs[other] = f
				}
			}
			vs[id] = vlanFlags{PVID: v.PVID, Untagged: v.Untagged}
		}
	}
	n.vlans[port] = vs
}

func (h *fakeHost) PortVLANs(name string) (PortVLANTable, error) {
	if err := h.n.failing("PortVLANs"); err != nil {
		return PortVLANTable{}, err
	}
	if _, ok := h.n.links[name]; !ok {
		return PortVLANTable{}, errors.New("link not found")
	}
	t := PortVLANTable{DefaultPVID: fakeDefaultPVID}
	for id, f := range h.n.vlans[name] {
		t.VLANs = append(t.VLANs, PortVLAN{Min: id, Max: id, PVID: f.PVID, Untagged: f.Untagged})
	}
	return t, nil
}

type fakeContainer struct{ n *fakeNode }

func (c *fakeContainer) HasLink(target *netns.NS, ifname string) (bool, error) {
	netns := target.String()
	links, ok := c.n.netns[netns]
	if !ok {
		return false, fmt.Errorf("netns %s does not exist", netns)
	}
	_, has := links[ifname]
	return has, nil
}

func (c *fakeContainer) Configure(target *netns.NS, ifname string, spec AddrSpec) error {
	netns := target.String()
	if err := c.n.failing("Configure"); err != nil {
		return err
	}
	st := c.n.netns[netns][ifname]
	st.Up = true
	for _, ip := range spec.Result.IPs {
		p, _ := nlx.Prefix(ip.Address)
		st.Addrs = append(st.Addrs, p)
	}
	st.Routes = append(st.Routes, podnstest.Routes(spec.Result.Routes)...)
	c.n.netns[netns][ifname] = st
	return nil
}

func (c *fakeContainer) WriteSysctls(target *netns.NS, settings []netconf.Setting) error {
	return c.n.sysctls.Write(target, settings, c.n.failing("WriteSysctls"))
}

func (c *fakeContainer) Inspect(target *netns.NS, ifname string, keys []sysctl.Key) (ContainerState, error) {
	netns := target.String()
	st, ok := c.n.netns[netns][ifname]
	if !ok {
		return st, errors.New("link not found")
	}
	st.Sysctls = c.n.sysctls.Read(target, keys)
	return st, nil
}

type fakeFirewall struct{ n *fakeNode }

func (f *fakeFirewall) EnsureRules(rs RuleSet) error {
	if err := f.n.failing("EnsureRules"); err != nil {
		return err
	}
	// Converge like the real backends: the network's old rules go.
	s := rs.set()
	for r := range f.n.rules {
		if strings.HasPrefix(r, s.Family()+" ") && (strings.Contains(r, netrules.FwdChain(s.Network)) || strings.Contains(r, netrules.MasqChain(s.Network))) {
			delete(f.n.rules, r)
		}
	}
	for _, r := range netrules.IPTablesRules(s) {
		f.n.rules[s.Family()+" "+r] = true
	}
	return nil
}

func (f *fakeFirewall) CheckRules(rs RuleSet) error {
	s := rs.set()
	for _, r := range netrules.IPTablesRules(s) {
		if !f.n.rules[s.Family()+" "+r] {
			return fmt.Errorf("rule %s missing", r)
		}
	}
	return nil
}

func (f *fakeFirewall) RetireOtherBackend(string, string, string) error {
	return f.n.failing("RetireOtherBackend")
}

func (f *fakeFirewall) Usable(backend string, _ bool) (string, error) {
	return backend, f.n.failing("Usable")
}

// fakeNS stands for the netns args names; it holds no namespace.
func fakeNS(args *skel.CmdArgs) *netns.NS { return &netns.NS{Path: args.Netns} }

// openNetns opens a netns of the fake world; the handle holds no namespace.
func (n *fakeNode) openNetns(path string) (*netns.NS, error) {
	if _, ok := n.netns[path]; !ok {
		return nil, cnierr.InvalidEnv("CNI_NETNS", path, "cannot open: no such file or directory")
	}
	return &netns.NS{Path: path}, nil
}

// NodeAddrs reports those of the fake's bridge addresses and of the
// node's own uplink "nstup" (192.0.2.10, 2001:db8:ff::10) in fams.
func (h *fakeHost) NodeAddrs(fams netconf.Families) ([]netconf.LinkAddr, error) {
	h.n.nodeAddrLists.Add(1)
	all := []netconf.LinkAddr{
		{Link: "lo", Addr: netip.MustParseAddr("127.0.0.1")},
		{Link: "nstup", Addr: netip.MustParseAddr("192.0.2.10")},
		{Link: "nstup", Addr: netip.MustParseAddr("2001:db8:ff::10")},
	}
	for name, addrs := range h.n.bridges {
		for _, a := range addrs {
			all = append(all, netconf.LinkAddr{Link: name, Addr: a.Addr()})
		}
	}
	var out []netconf.LinkAddr
	for _, a := range all {
		if f := (netconf.Families{}).With(a.Addr); (f.V4 && fams.V4) || (f.V6 && fams.V6) {
			out = append(out, a)
		}
	}
	return out, nil
}

// LinkKind knows the fake's bridges and veths and the uplink "nstup".
func (h *fakeHost) LinkKind(name string) (string, error) {
	if _, ok := h.n.bridges[name]; ok {
		return "bridge", nil
	}
	if _, ok := h.n.links[name]; ok {
		return "veth", nil
	}
	if name == "nstup" || name == "lo" {
		return "device", nil
	}
	return "", nil
}
