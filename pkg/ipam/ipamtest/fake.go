// Package ipamtest is an in-memory IPAM plugin for the plugins' unit
// tests: one address per attachment, handed out in order from a subnet,
// with a failure injectable per method. It stands for both ipam.Exec and
// ipam.Leases, so ADD, DEL, CHECK and GC run against one reservation table
// that a test can read and render.
package ipamtest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/ipam"
)

var (
	_ ipam.Exec   = (*Fake)(nil)
	_ ipam.Leases = (*Fake)(nil)
)

// Fake is host-local in memory. A real IPAM plugin learns the attachment
// from CNI_CONTAINERID and CNI_IFNAME; the Exec interface carries neither,
// so the test sets Attachment before each verb.
type Fake struct {
	// Subnet is where addresses come from: its first host is the
	// gateway, the next ones are handed out in order.
	Subnet netip.Prefix
	// Routes are returned with every ADD result.
	Routes []*types.Route
	// Attachment ("<containerID>/<ifname>") is whom Add, Del and Check serve.
	Attachment string
	// Reserved maps each attachment to its address ("10.22.0.2/16").
	Reserved map[string]string
	// GCConfs are the configs GC was called with, in order.
	GCConfs []string
	// Fail makes "IPAM.<Method>" return its error; tests may share the
	// map with the rest of their fake world's failure table.
	Fail map[string]error
	next int
}

// New returns an empty Fake serving subnet.
func New(subnet string) *Fake {
	return &Fake{Subnet: netip.MustParsePrefix(subnet), Reserved: map[string]string{}, Fail: map[string]error{}}
}

// Gateway is the subnet's first host, the gateway of every result.
func (f *Fake) Gateway() netip.Addr { return f.Subnet.Addr().Next() }

// Lines renders the reservations, one "ipam <attachment> <address>" line
// each, unsorted: the caller sorts them with the rest of its world.
func (f *Fake) Lines() []string {
	var lines []string
	for k, v := range f.Reserved {
		lines = append(lines, fmt.Sprintf("ipam %s %s", k, v))
	}
	return lines
}

// Add reserves the next address for Attachment, or returns the one it holds.
func (f *Fake) Add(string, []byte) (*current.Result, error) {
	if err := f.Fail["IPAM.Add"]; err != nil {
		return nil, err
	}
	addr, ok := f.Reserved[f.Attachment]
	if !ok {
		f.next++
		a := f.Gateway()
		for range f.next {
			a = a.Next()
		}
		addr = netip.PrefixFrom(a, f.Subnet.Bits()).String()
		f.Reserved[f.Attachment] = addr
	}
	p := netip.MustParsePrefix(addr)
	ipnet := net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	return &current.Result{
		CNIVersion: "1.1.0",
		IPs:        []*current.IPConfig{{Address: ipnet, Gateway: f.Gateway().AsSlice()}},
		Routes:     f.Routes,
	}, nil
}

// Del releases Attachment's address; releasing nothing is success.
func (f *Fake) Del(string, []byte) error {
	if err := f.Fail["IPAM.Del"]; err != nil {
		return err
	}
	delete(f.Reserved, f.Attachment)
	return nil
}

// Check fails when Attachment holds no address.
func (f *Fake) Check(string, []byte) error {
	if _, ok := f.Reserved[f.Attachment]; !ok {
		return errors.New("no reservation")
	}
	return nil
}

// GC records conf; the sweep itself is Leases' (Holders, Release).
func (f *Fake) GC(_ string, conf []byte) error {
	f.GCConfs = append(f.GCConfs, string(conf))
	return f.Fail["IPAM.GC"]
}

// Status returns the injected failure, if any.
func (f *Fake) Status(string, []byte) error { return f.Fail["IPAM.Status"] }

// Holders lists every attachment holding an address, of any network.
func (f *Fake) Holders(string, []byte, string) ([]types.GCAttachment, error) {
	var out []types.GCAttachment
	for key := range f.Reserved {
		id, ifname, _ := strings.Cut(key, "/")
		out = append(out, types.GCAttachment{ContainerID: id, IfName: ifname})
	}
	return out, f.Fail["IPAM.Holders"]
}

// Release frees a's address.
func (f *Fake) Release(_ string, _ []byte, a types.GCAttachment) error {
	if err := f.Fail["IPAM.Release"]; err != nil {
		return err
	}
	delete(f.Reserved, a.ContainerID+"/"+a.IfName)
	return nil
}
