package rps

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// WithNetnsSysfs runs fn with the path of a freshly mounted sysfs that shows
// the devices of the network namespace at netnsPath (a bind-mounted netns
// such as /run/netns/x, or /proc/<pid>/ns/net). An empty netnsPath means
// /proc/self/ns/net, the namespace of the process's main thread, which is
// the host netns for a CNI plugin even when the caller sits inside ns.Do
// (the calling goroutine's own netns does not matter).
//
// sysfs shows the network devices of the namespace that mounted it, so the
// /sys a plugin inherits may show another namespace's devices. WithNetnsSysfs
// therefore runs fn on a new OS thread that joins netnsPath, unshares its
// mount namespace, makes every mount a slave (nothing propagates back to the
// host), replaces /sys with a new sysfs, and passes fn "/sys". That thread
// stays locked when its goroutine returns, so Go discards it together with
// its private mounts and namespace instead of reusing it; it is never the
// main thread. The caller's thread and the process's mounts never change.
// fn must not start goroutines that expect to see the private /sys: they run
// on other threads.
//
// Needs CAP_SYS_ADMIN. Equivalent to: `ip netns exec $ns sh -c '...'`, which
// also remounts /sys.
func WithNetnsSysfs(netnsPath string, fn func(sysRoot string) error) error {
	if netnsPath == "" {
		netnsPath = "/proc/self/ns/net"
	}
	return onThrowawayThread(func() error { return onPrivateSysfs(netnsPath, fn) })
}

// onThrowawayThread runs work on an OS thread that is locked and never
// unlocked, so Go terminates it when work returns instead of reusing it with
// whatever namespaces work left behind.
//
// The main thread is the exception: Go parks it forever rather than
// terminating it, and /proc/self/ns/* show its namespaces, so changing them
// would make every later "/proc/self/ns/net" point into a foreign, possibly
// deleted namespace. When the goroutine lands on the main thread it keeps
// that thread locked and idle while a nested call, which therefore runs on
// another thread, does the work.
func onThrowawayThread(work func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			err := onThrowawayThread(work)
			runtime.UnlockOSThread() // untouched: safe to hand back
			errc <- err
			return
		}
		errc <- work()
	}()
	return <-errc
}

// onPrivateSysfs must run on a locked thread that is thrown away afterwards.
func onPrivateSysfs(netnsPath string, fn func(sysRoot string) error) error {
	fd, err := unix.Open(netnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening netns %s: %w", netnsPath, err)
	}
	// Go may clone this thread from any other thread, so its netns is
	// unknown until it joins one explicitly.
	err = unix.Setns(fd, unix.CLONE_NEWNET)
	unix.Close(fd) // a read-only namespace fd: closing cannot lose data
	if err != nil {
		return fmt.Errorf("entering netns %s: %w", netnsPath, err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unsharing mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making mounts slaves in private mount namespace: %w", err)
	}
	const sysRoot = "/sys"
	// The kernel refuses (EBUSY) to mount a sysfs over an instance of itself,
	// which is what /sys is when netnsPath is the namespace that mounted it.
	// Detaching the inherited /sys first, in this mount namespace only, avoids
	// that, as iproute2's `ip netns exec` does. EINVAL: nothing was mounted.
	if err := unix.Unmount(sysRoot, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("detaching inherited %s in private mount namespace: %w", sysRoot, err)
	}
	if err := unix.Mount("sysfs", sysRoot, "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting sysfs for netns %s on %s: %w", netnsPath, sysRoot, err)
	}
	return fn(sysRoot)
}
