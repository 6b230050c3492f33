//go:build vm

package ipvlan

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/integration/nstest"
	"github.com/netsteer/netsteer/pkg/nlx"
)

// leaks is the leak checker every reliability test ends with. An ipvlan
// attachment owns its link in the container netns (named CNI_IFNAME or
// the temporary nsi<hash>, aliased netsteer:…), its host-local
// reservation, and libcni's cached result; none may outlive DEL. The
// node netns owns nothing per attachment, so any link that was not there
// when the checker started is a leak (a link the test deletes, such as
// the master, may go).
type leaks struct {
	n        *node
	baseline []string // node links when the checker started
	netns    []*namespace
}

// watchLeaks returns a checker for n and registers its final check. Call
// it right after newNode: cleanups run last-registered first, so the
// check runs after every netns removal the test registers later.
func watchLeaks(t *testing.T, n *node) *leaks {
	t.Helper()
	l := &leaks{n: n}
	links, err := n.ns.linkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range links {
		l.baseline = append(l.baseline, k.Attrs().Name)
	}
	t.Cleanup(func() {
		for _, p := range l.problems(t, true) {
			t.Errorf("leak after cleanup: %s", p)
		}
	})
	return l
}

// container makes a container netns the checker tracks: while it exists
// it must hold only lo, and after cleanup it must be gone.
func (l *leaks) container(t *testing.T, purpose string) *namespace {
	t.Helper()
	ns := newNamespace(t, purpose)
	l.netns = append(l.netns, ns)
	return ns
}

// check fails the test with every leak found now; tests call it after
// their last DEL, while the container namespaces still exist.
func (l *leaks) check(t testing.TB) int {
	t.Helper()
	probs := l.problems(t, false)
	for _, p := range probs {
		t.Errorf("leak: %s", p)
	}
	return len(probs)
}

// problems lists the leaks found now; final also requires the tracked
// container namespaces to be gone.
func (l *leaks) problems(t testing.TB, final bool) []string {
	t.Helper()
	return slices.Concat(l.nodeLinks(t), l.containers(t, final), nstest.HostLocalReservations(t, l.n.dataDir), nstest.CachedResults(t, l.n.cacheDir))
}

func (l *leaks) nodeLinks(t testing.TB) []string {
	links, err := l.n.ns.linkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range links {
		if a := k.Attrs(); !slices.Contains(l.baseline, a.Name) {
			out = append(out, fmt.Sprintf("link %s (%s, alias %q) appeared in node netns %s", a.Name, k.Type(), a.Alias, l.n.ns.Name))
		}
	}
	return out
}

func (l *leaks) containers(t testing.TB, final bool) []string {
	var out []string
	for _, ns := range l.netns {
		_, err := os.Stat(ns.Path)
		switch {
		case err == nil && final:
			out = append(out, fmt.Sprintf("netns %s still exists", ns.Name))
		case err == nil:
			links, err := ns.linkList()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range links {
				if a := k.Attrs(); a.Name != "lo" {
					out = append(out, fmt.Sprintf("link %s (%s, alias %q) left in container netns %s", a.Name, k.Type(), a.Alias, ns.Name))
				}
			}
		case !os.IsNotExist(err):
			t.Fatalf("checking netns %s: %v", ns.Name, err)
		}
	}
	return out
}

// reservedBy reports whether host-local holds an address of network for id.
func (n *node) reservedBy(t *testing.T, network, id string) bool {
	t.Helper()
	return slices.Contains(slices.Collect(maps.Values(n.owners(t, network))), id)
}

// owners maps each address host-local holds for network to its container ID.
func (n *node) owners(t *testing.T, network string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ip := range n.reserved(t, network) {
		b, err := os.ReadFile(filepath.Join(n.dataDir, network, ip))
		if err != nil {
			t.Fatal(err)
		}
		id, _, _ := strings.Cut(string(b), "\r\n")
		out[ip] = id
	}
	return out
}

// linkList is every link of the netns as netlink reports it. The checks
// run after every trial, and the VM is slow to fork `ip`.
func (n *namespace) linkList() (links []netlink.Link, err error) {
	err = n.withHandle(func(h *netlink.Handle) error {
		links, err = nlx.RetryDump(h.LinkList)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing links of %s: %w", n.Name, err)
	}
	return links, nil
}

// withHandle runs fn with a route-only netlink handle in the netns.
func (n *namespace) withHandle(fn func(h *netlink.Handle) error) error {
	h, err := netlink.NewHandleAt(n.handle, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink handle in %s: %w", n.Name, err)
	}
	defer h.Close()
	return fn(h)
}
