// Package netns owns the container's network namespace as the plugins see
// it: CNI_NETNS is opened exactly once, the open handle itself is verified
// (an nsfs network namespace, not the plugin's own), and every later step
// enters or targets that handle, never the path again. A path re-opened
// later could name something else by then: a symlink flipped to the
// node's netns would make an ADD rewire the node, and a FIFO would hang
// the plugin in open(2).
package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// NS is an open network namespace. Path is what CNI_NETNS said, kept for
// messages and results only. The zero NS (or one built from a Path alone)
// holds no namespace: Do and Fd refuse it, so it can stand for a netns in
// fakes but can never act on one.
type NS struct {
	Path string
	file *os.File
}

// nsfsMagic is NSFS_MAGIC from <linux/magic.h>.
const nsfsMagic = 0x6e736673

// nsGetNSType is NS_GET_NSTYPE from <linux/nsfs.h>: which kind of
// namespace an nsfs file is (a bind-mounted mount namespace is nsfs too).
const nsGetNSType = 0xb703

// Open opens the network namespace at path for the verbs that need one.
// O_NONBLOCK keeps a FIFO from blocking the open; O_CLOEXEC keeps the
// handle out of the IPAM plugin we exec. The checks run on the open file
// descriptor, so what is verified is what is used. Errors are code 4
// naming CNI_NETNS and its value.
func Open(path string) (*NS, error) {
	if path == "" {
		return nil, cnierr.InvalidEnv("CNI_NETNS", path, "required for this command")
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, cnierr.InvalidEnv("CNI_NETNS", path, fmt.Sprintf("cannot open: %v", err))
	}
	n := &NS{Path: path, file: os.NewFile(uintptr(fd), path)}
	if why := n.problem(); why != "" {
		n.Close()
		return nil, cnierr.InvalidEnv("CNI_NETNS", path, why)
	}
	return n, nil
}

// problem says why the open handle is not a usable container netns, or "".
func (n *NS) problem() string {
	fd := int(n.file.Fd())
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return fmt.Sprintf("cannot stat: %v", err)
	}
	if fs.Type != nsfsMagic {
		return "not a network namespace (not an nsfs file)"
	}
	if kind, err := unix.IoctlRetInt(fd, nsGetNSType); err != nil || kind != unix.CLONE_NEWNET {
		return "not a network namespace"
	}
	var target, self unix.Stat_t
	if err := unix.Fstat(fd, &target); err != nil {
		return fmt.Sprintf("cannot stat: %v", err)
	}
	if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
		return fmt.Sprintf("cannot stat own netns: %v", err)
	}
	if target.Dev == self.Dev && target.Ino == self.Ino {
		return "is the plugin's own (host) network namespace"
	}
	return ""
}

// String is the path, for messages; "" for a nil NS.
func (n *NS) String() string {
	if n == nil {
		return ""
	}
	return n.Path
}

// Fd is the handle's file descriptor, for netlink's "move into netns"
// attributes; -1 for an NS that holds no namespace.
func (n *NS) Fd() int {
	if n == nil || n.file == nil {
		return -1
	}
	return int(n.file.Fd())
}

// Close releases the handle.
func (n *NS) Close() error {
	if n == nil || n.file == nil {
		return nil
	}
	return n.file.Close()
}

// errNotOpen is Do on an NS that holds no namespace.
var errNotOpen = errors.New("network namespace handle is not open")

// Do runs f on an OS thread switched into n and switches the thread back
// afterwards. f must not start goroutines that rely on being in n. When
// the thread cannot be switched back, it stays locked, so the Go runtime
// retires it with the goroutine rather than reuse it in the wrong netns.
func (n *NS) Do(f func() error) error {
	if n.Fd() < 0 {
		return fmt.Errorf("%s: %w", n.Path, errNotOpen)
	}
	errc := make(chan error, 1)
	go func() { errc <- n.do(f) }()
	return <-errc
}

func (n *NS) do(f func() error) error {
	runtime.LockOSThread()
	home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("opening this thread's netns: %w", err)
	}
	defer unix.Close(home)
	if err := unix.Setns(n.Fd(), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering netns %s: %w", n.Path, err)
	}
	ferr := f()
	if err := unix.Setns(home, unix.CLONE_NEWNET); err != nil {
		// Thread left locked on purpose: it exits with this goroutine.
		return errors.Join(ferr, fmt.Errorf("returning from netns %s: %w", n.Path, err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// TakeOverFromSkel stops skel, and the IPAM plugin we exec with this
// environment, from checking CNI_NETNS again after the verb ran
// (CNI_NETNS_OVERRIDE): that check re-opens the path with a blocking
// open, so a FIFO hangs DEL, and a symlink flipped meanwhile makes skel
// print an error after our result. Open makes the check before anything
// runs, on the handle every step uses. main calls it before building the
// plugin, whose IPAM client copies the environment.
func TakeOverFromSkel() error { return os.Setenv("CNI_NETNS_OVERRIDE", "1") }

// With opens path with open, runs f with the handle and closes it: the
// frame of every verb that acts inside CNI_NETNS. An open error is
// returned as it is (it already carries its CNI code).
func With(open func(string) (*NS, error), path string, f func(*NS) error) error {
	target, err := open(path)
	if err != nil {
		return err
	}
	defer target.Close()
	return f(target)
}
