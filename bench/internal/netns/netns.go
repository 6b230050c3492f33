// Package netns creates and removes the named network namespaces the
// benchmark works in, and runs commands and functions inside them. A
// namespace is kept alive by a bind mount of its nsfs file under a
// directory (normally /run/netns, so `ip netns` sees it); a Set remembers
// every namespace it created so one call removes them all, also after an
// error or an interrupt.
package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// NS is a named network namespace pinned at Path.
type NS struct {
	Name string
	Path string
}

// Do runs fn on an OS thread that has entered ns. The thread is thrown
// away afterwards instead of being switched back, so no goroutine can ever
// run in a namespace it did not ask for.
func (ns NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// No UnlockOSThread: a goroutine that exits while locked takes its
		// thread with it, which is what we want for a thread whose
		// namespace was changed.
		runtime.LockOSThread()
		errc <- ns.enterAndRun(fn)
	}()
	return <-errc
}

func (ns NS) enterAndRun(fn func() error) error {
	fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening netns %s: %w", ns.Path, err)
	}
	err = unix.Setns(fd, unix.CLONE_NEWNET)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("entering netns %s: %w", ns.Name, err)
	}
	return fn()
}

// StartOptions tune how a command is started inside a namespace.
type StartOptions struct {
	// CPUs, when not empty, is the affinity given to the command and all
	// its threads (it is inherited across fork), like `taskset -c`.
	CPUs []int
}

// Start starts cmd inside ns. The child inherits the starting thread's
// network namespace and CPU affinity, which is how this works without an
// extra `ip netns exec` process.
func (ns NS) Start(cmd *exec.Cmd, opts StartOptions) error {
	return ns.Do(func() error {
		if len(opts.CPUs) > 0 {
			var set unix.CPUSet
			for _, c := range opts.CPUs {
				set.Set(c)
			}
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				return fmt.Errorf("pinning to CPUs %v before starting %s: %w", opts.CPUs, cmd.Path, err)
			}
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting %s in netns %s: %w", cmd.Path, ns.Name, err)
		}
		return nil
	})
}

// Run starts cmd inside ns, waits for it, and returns how long it took from
// just before the fork to after the child was reaped. Thread setup and
// namespace entry are outside the measured interval.
func (ns NS) Run(cmd *exec.Cmd) (time.Duration, error) {
	var start time.Time
	err := ns.Do(func() error {
		start = time.Now()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting %s in netns %s: %w", cmd.Path, ns.Name, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	err = cmd.Wait()
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("running %s in netns %s: %w", cmd.Path, ns.Name, err)
	}
	return took, nil
}

// Set creates namespaces under Dir and remembers them for RemoveAll. It is
// safe for concurrent use.
type Set struct {
	Dir string

	mu      sync.Mutex
	created map[string]NS
}

// NewSet returns a Set that pins namespaces under dir, creating dir if
// needed.
func NewSet(dir string) (*Set, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating netns directory %s: %w", dir, err)
	}
	return &Set{Dir: dir, created: map[string]NS{}}, nil
}

// Create makes a new network namespace called name with its loopback up.
// Equivalent to: `ip netns add $name; ip -n $name link set lo up`.
func (s *Set) Create(name string) (NS, error) {
	ns := NS{Name: name, Path: filepath.Join(s.Dir, name)}
	f, err := os.OpenFile(ns.Path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return NS{}, fmt.Errorf("creating netns mount point %s: %w", ns.Path, err)
	}
	f.Close()
	s.remember(ns)

	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends up in the new netns
		errc <- pin(ns.Path)
	}()
	if err := <-errc; err != nil {
		return NS{}, fmt.Errorf("creating netns %s: %w", name, err)
	}
	return ns, nil
}

// pin moves the calling thread into a fresh network namespace, bind-mounts
// it at path and brings its loopback up.
func pin(path string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unsharing network namespace: %w", err)
	}
	src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
	if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s on %s: %w", src, path, err)
	}
	return setLinkUp("lo")
}

// setLinkUp brings up a link of the calling thread's namespace.
// Equivalent to: `ip link set $name up`.
func setLinkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening socket to set %s up: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("naming interface %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("reading flags of %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("setting %s up: %w", name, err)
	}
	return nil
}

func (s *Set) remember(ns NS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created[ns.Name] = ns
}

// Remove unpins ns; the kernel frees the namespace, and the veths inside
// it, once nothing else holds it. Removing an unknown or already removed
// namespace is not an error.
func (s *Set) Remove(ns NS) error {
	// MNT_DETACH so a process still running inside cannot block the unmount.
	if err := unix.Unmount(ns.Path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting netns %s: %w", ns.Path, err)
	}
	if err := os.Remove(ns.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing netns mount point %s: %w", ns.Path, err)
	}
	s.mu.Lock()
	delete(s.created, ns.Name)
	s.mu.Unlock()
	return nil
}

// RemoveAll removes every namespace the Set created and still holds.
func (s *Set) RemoveAll() error {
	s.mu.Lock()
	all := make([]NS, 0, len(s.created))
	for _, ns := range s.created {
		all = append(all, ns)
	}
	s.mu.Unlock()
	var errs []error
	for _, ns := range all {
		errs = append(errs, s.Remove(ns))
	}
	return errors.Join(errs...)
}

// Leftovers lists the entries of Dir whose names start with prefix, sorted.
// After RemoveAll it should be empty; anything listed is a leak.
func (s *Set) Leftovers(prefix string) ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.Dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}
