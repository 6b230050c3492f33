// Package podroutestest holds a fake podroutes.Table: a node's addresses and
// main routing table in memory, rendered as sorted text.
package podroutestest

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/netsteer/netsteer/pkg/podroutes"
)

// Table is a fake routing table. Set Fail to make the next calls of a
// method ("Addrs", "Routes", "Replace", "Delete") fail. Its methods may be
// called from several goroutines; the fields may be set only while no
// method runs.
type Table struct {
	mu    sync.Mutex
	Addr  []podroutes.HostAddr
	Route []podroutes.Route
	Fail  map[string]bool
	Calls []string // "replace <route>" and "delete <route>", in order
}

var _ podroutes.Table = (*Table)(nil)

// ErrInjected is what a method set in Fail returns.
var ErrInjected = errors.New("injected failure")

// NewTable makes a table with the given addresses ("192.168.1.1/24 eth0")
// and the connected routes the kernel would add for them.
func NewTable(addrs ...string) *Table {
	t := &Table{Fail: map[string]bool{}}
	for _, s := range addrs {
		var a, dev string
		if _, err := fmt.Sscan(s, &a, &dev); err != nil {
			panic(fmt.Sprintf("address %q: %v", s, err))
		}
		p := netip.MustParsePrefix(a)
		t.Addr = append(t.Addr, podroutes.HostAddr{Prefix: p, Dev: dev})
		if p.Bits() < p.Addr().BitLen() {
			t.Route = append(t.Route, podroutes.Route{Dst: p.Masked(), Dev: dev, Proto: 2})
		}
	}
	return t
}

func (t *Table) Addrs() ([]podroutes.HostAddr, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Fail["Addrs"] {
		return nil, ErrInjected
	}
	return slices.Clone(t.Addr), nil
}

func (t *Table) Routes() ([]podroutes.Route, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Fail["Routes"] {
		return nil, ErrInjected
	}
	return slices.Clone(t.Route), nil
}

// Replace behaves like the kernel's: it overwrites a route to the same
// destination whatever its protocol, and needs a connected gateway.
func (t *Table) Replace(r podroutes.Route) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Calls = append(t.Calls, "replace "+r.String())
	if t.Fail["Replace"] {
		return ErrInjected
	}
	if !t.connected(r) {
		return fmt.Errorf("route %s: network is unreachable", r)
	}
	t.Route = slices.DeleteFunc(t.Route, func(x podroutes.Route) bool { return x.Dst == r.Dst })
	t.Route = append(t.Route, r)
	return nil
}

// Delete removes the route to r.Dst if it carries r.Proto.
func (t *Table) Delete(r podroutes.Route) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Calls = append(t.Calls, "delete "+r.String())
	if t.Fail["Delete"] {
		return ErrInjected
	}
	t.Route = slices.DeleteFunc(t.Route, func(x podroutes.Route) bool { return x.Dst == r.Dst && x.Proto == r.Proto })
	return nil
}

func (t *Table) connected(r podroutes.Route) bool {
	for _, a := range t.Addr {
		if a.Dev == r.Dev && a.Prefix.Masked().Contains(r.Via) {
			return true
		}
	}
	return false
}

// String renders the routes, one a line, sorted.
func (t *Table) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := make([]string, 0, len(t.Route))
	for _, r := range t.Route {
		lines = append(lines, r.String())
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
