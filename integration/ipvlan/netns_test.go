//go:build vm

package ipvlan

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// namespace is a named netns the test created: `ip -n Name` reaches it,
// Path is what CNI_NETNS carries.
type namespace struct {
	Name   string
	Path   string
	handle netns.NsHandle
}

// newNamespace creates "nst-<purpose>-<random>", deleted when the test
// ends unless the test deleted it first.
func newNamespace(t *testing.T, purpose string) *namespace {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	n := &namespace{Name: "nst-" + purpose + "-" + hex.EncodeToString(b)}
	n.Path = "/run/netns/" + n.Name
	err := onOwnThread(func() (err error) {
		n.handle, err = netns.NewNamed(n.Name)
		return err
	})
	if err != nil {
		t.Fatalf("creating netns %s: %v", n.Name, err)
	}
	t.Cleanup(func() { n.remove(t) })
	return n
}

// remove deletes the netns; a second call is a no-op.
func (n *namespace) remove(t *testing.T) {
	t.Helper()
	if !n.handle.IsOpen() {
		return
	}
	n.handle.Close()
	if err := netns.DeleteNamed(n.Name); err != nil {
		t.Errorf("deleting netns %s: %v", n.Name, err)
	}
}

// do runs fn on a thread inside the netns. Sockets fn opens stay in it.
func (n *namespace) do(fn func() error) error {
	return onOwnThread(func() error {
		if err := netns.Set(n.handle); err != nil {
			return err
		}
		return fn()
	})
}

// onOwnThread runs fn on a locked OS thread it never unlocks, so the Go
// runtime retires the thread with whatever netns fn left it in.
func onOwnThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		done <- fn()
	}()
	return <-done
}

// netlink opens a route-only netlink handle in the netns (without a
// protocol list the handle also wants XFRM, which needs xfrm_user).
func (n *namespace) netlink(t *testing.T) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(n.handle, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("netlink handle in %s: %v", n.Name, err)
	}
	t.Cleanup(h.Close)
	return h
}

// addDummy creates an up dummy link, the master of the tests' ipvlans.
func (n *namespace) addDummy(t *testing.T, name string, mtu int) {
	t.Helper()
	h := n.netlink(t)
	if err := h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: mtu, TxQLen: -1}}); err != nil {
		t.Fatalf("creating dummy %s in %s (the VM kernel must have dummy): %v", name, n.Name, err)
	}
	ip(t, "-n", n.Name, "link", "set", name, "up")
}

// ip runs iproute2 and returns its stdout; a failure fails the test.
func ip(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// ipLink is the part of `ip -j -d link show` the tests read.
type ipLink struct {
	Ifname    string   `json:"ifname"`
	Flags     []string `json:"flags"`
	MTU       int      `json:"mtu"`
	Link      string   `json:"link"` // the master, when in the same netns
	LinkIndex int      `json:"link_index"`
	Alias     string   `json:"ifalias"`
	Linkinfo  struct {
		InfoKind string `json:"info_kind"`
		// InfoData holds "mode" and, for ipvlan, one of "bridge",
		// "private" or "vepa" set to true.
		InfoData map[string]any `json:"info_data"`
	} `json:"linkinfo"`
}

// links is every link in the netns, as `ip -j -d link show` reports it.
func (n *namespace) links(t *testing.T) []ipLink {
	t.Helper()
	var out []ipLink
	mustJSON(t, ip(t, "-n", n.Name, "-j", "-d", "link", "show"), &out)
	return out
}

// link is the link called name, or nil.
func (n *namespace) link(t *testing.T, name string) *ipLink {
	t.Helper()
	for _, l := range n.links(t) {
		if l.Ifname == name {
			return &l
		}
	}
	return nil
}

// addrs is the addresses on dev as "a.b.c.d/len", from `ip -j addr show`.
func (n *namespace) addrs(t *testing.T, dev string) []string {
	t.Helper()
	var out []struct {
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	mustJSON(t, ip(t, "-n", n.Name, "-j", "addr", "show", "dev", dev), &out)
	var addrs []string
	for _, l := range out {
		for _, a := range l.AddrInfo {
			if a.Family == "inet" {
				addrs = append(addrs, a.Local+"/"+strconv.Itoa(a.PrefixLen))
			}
		}
	}
	return addrs
}

// mustJSON decodes iproute2's JSON output into v.
func mustJSON(t *testing.T, raw string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		t.Fatalf("parsing ip -j output: %v\n%s", err, raw)
	}
}

// sysctl reads /proc/sys/<key> inside the netns: /proc/sys/net shows the
// namespace of the thread that opens the file.
func (n *namespace) sysctl(t *testing.T, key string) string {
	t.Helper()
	var b []byte
	err := n.do(func() (err error) {
		b, err = os.ReadFile("/proc/sys/" + key)
		return err
	})
	if err != nil {
		t.Fatalf("reading %s in %s: %v", key, n.Name, err)
	}
	return strings.TrimSpace(string(b))
}

// setSysctl writes /proc/sys/<key> inside the netns.
func (n *namespace) setSysctl(t *testing.T, key, value string) {
	t.Helper()
	err := n.do(func() error { return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644) })
	if err != nil {
		t.Fatalf("writing %s=%s in %s: %v", key, value, n.Name, err)
	}
}
