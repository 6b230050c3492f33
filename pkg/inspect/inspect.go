// Package inspect reports, read-only, what netsteer's networks have on a
// node: every attachment (network, container, pod, interface, host veth,
// addresses, RPS/RFS settings), whether each vethbridge network's
// netfilter rules are in place, and the host-local reservations whose
// attachment is gone, which the network's GC would release. It reads the
// runtime's result cache and host-local's store under a CNI state dir,
// the host veths under a sysfs root, and the rules through a RuleReader;
// it writes nothing. Roots are fields, so tests build a node in a temp dir.
package inspect

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Plugin types whose attachments are ours.
const (
	Vethbridge = "vethbridge"
	IPvlan     = "ipvlan"
)

// Node is where to look.
type Node struct {
	// Sys is a sysfs mounted in the plugins' netns ("/sys").
	Sys string
	// CNIDir is the CNI state dir ("/var/lib/cni"): results/ is the
	// runtime's (libcni's) result cache, networks/ host-local's default store.
	CNIDir string
	// Rules reads the netfilter rules; nil reports them as unknown.
	Rules RuleReader
	// NFT reads our nftables table; nil leaves networks on the nftables
	// backend reported as unknown.
	NFT NFTReader
	// NetnsExists reports whether a cached CNI_NETNS path still exists
	// (ipvlan attachments own no host object to look at); nil means os.Stat.
	NetnsExists func(path string) bool
}

// Report is everything Inspect found.
type Report struct {
	Networks    []Network     `json:"networks"`
	Attachments []Attachment  `json:"attachments"`
	Stale       []Reservation `json:"staleReservations"`
}

// Network is one of our networks on the node.
type Network struct {
	Name   string `json:"name"`
	Plugin string `json:"plugin"`
	Bridge string `json:"bridge,omitempty"`
	Rules  Rules  `json:"rules"`
}

// Attachment is one container interface on one of our networks.
type Attachment struct {
	Network      string   `json:"network"`
	Plugin       string   `json:"plugin"`
	ContainerID  string   `json:"containerID"`
	PodNamespace string   `json:"podNamespace,omitempty"`
	PodName      string   `json:"podName,omitempty"`
	IfName       string   `json:"ifname"`
	Netns        string   `json:"netns,omitempty"`
	HostVeth     string   `json:"hostVeth,omitempty"`
	Bridge       string   `json:"bridge,omitempty"`
	Addresses    []string `json:"addresses"`
	RPS          []Queue  `json:"rps,omitempty"`
	// Live reports whether the attachment's kernel side still exists: the
	// host veth for vethbridge, the netns for ipvlan. Problem says what is
	// wrong when it is not, or when the runtime's cache lacks it.
	Live    bool   `json:"live"`
	Problem string `json:"problem,omitempty"`
}

// Queue is one rx queue's steering settings, as sysfs shows them.
type Queue struct {
	Queue     string `json:"queue"`
	CPUs      string `json:"rpsCPUs"`
	FlowCount string `json:"rpsFlowCnt"`
}

// Reservation is one host-local reservation.
type Reservation struct {
	Network     string `json:"network"`
	Address     string `json:"address"`
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifname"`
}

type key struct{ network, containerID, ifname string }

// Inspect reads the node. A source that cannot be read at all (no cache
// dir, no sysfs) is an error; single unreadable entries are skipped, as
// GC skips them.
func (n Node) Inspect() (*Report, error) {
	cached, err := readCache(filepath.Join(n.CNIDir, "results"))
	if err != nil {
		return nil, err
	}
	veths, err := readHostVeths(n.Sys)
	if err != nil {
		return nil, err
	}
	nets := networksOf(cached, veths)
	atts := n.attachments(cached, veths)
	live := map[key]bool{}
	for _, a := range atts {
		live[key{a.Network, a.ContainerID, a.IfName}] = a.Live
	}
	r := &Report{Networks: []Network{}, Attachments: atts, Stale: []Reservation{}}
	for _, nw := range nets {
		held, err := readReservations(n.dataDir(nw), nw.Name)
		if err != nil {
			return nil, err
		}
		for _, res := range held {
			if !live[key{res.Network, res.ContainerID, res.IfName}] {
				r.Stale = append(r.Stale, res)
			}
			addAddress(atts, res)
		}
		r.Networks = append(r.Networks, Network{Name: nw.Name, Plugin: nw.Plugin, Bridge: nw.Bridge, Rules: n.rules(nw, atts)})
	}
	slices.SortFunc(r.Stale, func(a, b Reservation) int {
		return cmp.Or(cmp.Compare(a.Network, b.Network), cmp.Compare(a.Address, b.Address))
	})
	return r, nil
}

// attachments merges the cache and the host veths by (network, container,
// ifname), sorted by that key.
func (n Node) attachments(cached []cacheEntry, veths []hostVeth) []Attachment {
	byKey := map[key]*Attachment{}
	for _, c := range cached {
		byKey[key{c.Network, c.ContainerID, c.IfName}] = cachedAttachment(c)
	}
	for _, v := range veths {
		mergeVeth(byKey, v)
	}
	out := make([]Attachment, 0, len(byKey))
	for _, a := range byKey {
		n.judge(a)
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Attachment) int {
		return cmp.Or(cmp.Compare(a.Network, b.Network), cmp.Compare(a.ContainerID, b.ContainerID), cmp.Compare(a.IfName, b.IfName))
	})
	return out
}

// cachedAttachment is an attachment as the runtime's result cache lists it.
func cachedAttachment(c cacheEntry) *Attachment {
	a := &Attachment{
		Network: c.Network, Plugin: c.Plugin.Type, ContainerID: c.ContainerID, IfName: c.IfName,
		PodNamespace: c.PodNamespace, PodName: c.PodName, Netns: c.Netns, Addresses: c.Addresses,
	}
	if c.Plugin.Type == Vethbridge {
		a.Bridge = c.Plugin.Bridge
	}
	return a
}

// mergeVeth adds what host veth v shows to its attachment in byKey, and
// adds the attachment when the cache does not list it.
func mergeVeth(byKey map[key]*Attachment, v hostVeth) {
	k := key{v.Network, v.ContainerID, v.IfName}
	a, ok := byKey[k]
	if !ok {
		a = &Attachment{Network: v.Network, Plugin: Vethbridge, ContainerID: v.ContainerID, IfName: v.IfName,
			Problem: "not in the runtime's result cache"}
		byKey[k] = a
	}
	a.HostVeth, a.Bridge, a.RPS, a.Live = v.Name, v.Master, v.Queues, true
}

// judge sets whether a is live (an ipvlan attachment while its netns
// exists, a vethbridge one while its host veth does) and, when it is not,
// the problem.
func (n Node) judge(a *Attachment) {
	exists := n.NetnsExists
	if exists == nil {
		exists = func(p string) bool { _, err := os.Stat(p); return err == nil }
	}
	switch {
	case a.Plugin == IPvlan:
		a.Live = a.Netns != "" && exists(a.Netns)
		if !a.Live {
			a.Problem = "network namespace " + a.Netns + " is gone"
		}
	case !a.Live:
		a.Problem = "host veth is gone"
	}
	if a.Addresses == nil {
		a.Addresses = []string{}
	}
}

// addAddress adds a reservation's address to its attachment when the
// cache did not list it (an attachment known only from its host veth).
func addAddress(atts []Attachment, res Reservation) {
	for i := range atts {
		a := &atts[i]
		if a.Network != res.Network || a.ContainerID != res.ContainerID || a.IfName != res.IfName {
			continue
		}
		for _, have := range a.Addresses {
			if addrOnly(have) == res.Address {
				return
			}
		}
		a.Addresses = append(a.Addresses, res.Address)
	}
}

func addrOnly(cidr string) string {
	addr, _, _ := strings.Cut(cidr, "/")
	return addr
}

// dataDir is where host-local keeps nw's reservations.
func (n Node) dataDir(nw networkInfo) string {
	if nw.DataDir != "" {
		return nw.DataDir
	}
	return filepath.Join(n.CNIDir, "networks")
}
