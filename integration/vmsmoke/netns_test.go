//go:build vm

package vmsmoke

import (
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// newNetns creates a named network namespace "nst-<purpose>-<random>",
// removed when the test ends, and returns its name and handle.
func newNetns(t *testing.T, purpose string) (string, netns.NsHandle) {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "nst-" + purpose + "-" + hex.EncodeToString(b)
	var ns netns.NsHandle
	err := onThrowawayThread(func() error {
		var err error
		ns, err = netns.NewNamed(name)
		return err
	})
	if err != nil {
		t.Fatalf("creating netns %s: %v", name, err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("deleting netns %s: %v", name, err)
		}
	})
	return name, ns
}

// inNetns runs fn on a thread switched into ns.
func inNetns(ns netns.NsHandle, fn func() error) error {
	return onThrowawayThread(func() error {
		if err := netns.Set(ns); err != nil {
			return err
		}
		return fn()
	})
}

// onThrowawayThread runs fn on a locked OS thread that is never unlocked,
// so the runtime discards the thread, with whatever netns fn left it in.
func onThrowawayThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- fn()
	}()
	return <-errc
}

// handleAt opens a netlink handle in ns. NETLINK_ROUTE only: without a
// protocol list the handle also wants XFRM, which needs xfrm_user.
func handleAt(t *testing.T, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("opening netlink handle: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}
