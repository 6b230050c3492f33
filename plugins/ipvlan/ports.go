package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// The master's ipvlan port holds one mode and one flag for every link on
// it, and the kernel sets both from each new link (ipvlan_link_new: the
// latest ADD wins). Links an earlier ADD moved into a pod's netns cannot
// be listed from the node's netns, so the node keeps a record per master
// of the attachments on it (issue 9, class 10): portBook.
//
// The record is a hint checked against the kernel, never trusted alone:
// an entry that disagrees with a new ADD blocks it only while its pod's
// netns still opens and holds the entry's ipvlan link with the entry's
// alias; otherwise the entry is dropped. So a record left by a crash, a
// lost DEL or a deleted netns never blocks the master for good; DEL and
// GC prune their entries only to keep it small. It lives on /run (tmpfs),
// so a reboot, which takes every link with it, clears it too.

// portEntry is one attachment on a master's ipvlan port.
type portEntry struct {
	Network     string `json:"network"`
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifname"`
	// Netns is CNI_NETNS as ADD got it: where the link is looked for.
	Netns string `json:"netns"`
	Mode  Mode   `json:"mode"`
	Flag  Flag   `json:"flag"`
}

// portRecord is the record of one master.
type portRecord struct {
	Master      string      `json:"master"`
	Attachments []portEntry `json:"attachments"`
}

// same reports whether e and o are one attachment.
func (e portEntry) same(o portEntry) bool {
	return e.Network == o.Network && e.ContainerID == o.ContainerID && e.IfName == o.IfName
}

// without is r less the entries drop reports, in order.
func (r portRecord) without(drop func(portEntry) bool) portRecord {
	r.Attachments = slices.DeleteFunc(slices.Clone(r.Attachments), drop)
	return r
}

// portBook keeps the records under Dir (/run/netsteer), one pair of files
// per master: "ipvlan-port-<netns>-<ifindex>.lock", flock'd by every
// reader and writer, and ".json", replaced by rename so a crash never
// leaves it half-written. The key is the master's ifindex in the plugin's
// own netns (named by its inode): a master deleted and made again, which
// took every link with it, gets a fresh record.
type portBook struct {
	Dir string
}

const (
	portFilePrefix = "ipvlan-port-"
	// maxPortRecord bounds a read: ~150 bytes an attachment, so far more
	// than a node carries.
	maxPortRecord = 8 << 20
)

// portLock is a record held under its flock; close releases it.
type portLock struct {
	lock *os.File
	data string
}

// lock takes the record of master index on the plugin's own netns.
func (b portBook) lock(index int) (*portLock, error) {
	var self unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err != nil {
		return nil, fmt.Errorf("reading the node's netns: %w", err)
	}
	base := filepath.Join(b.Dir, fmt.Sprintf("%s%d-%d", portFilePrefix, self.Ino, index))
	return b.lockFile(base)
}

// lockFile opens and flocks base.lock; the record is base.json.
func (b portBook) lockFile(base string) (*portLock, error) {
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", b.Dir, err)
	}
	f, err := os.OpenFile(base+".lock", os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s.lock: %w", base, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s.lock: %w", base, err)
	}
	return &portLock{lock: f, data: base + ".json"}, nil
}

// close releases the flock; nil and a second close are no-ops.
func (l *portLock) close() {
	if l != nil && l.lock != nil {
		l.lock.Close() // closing releases the flock
		l.lock = nil
	}
}

// read is the record; an absent one is empty. A record that does not
// parse (only a hand edit can make one: writes are atomic) is read as
// empty rather than wedging the master: the links still visible on the
// node are checked apart from it.
func (l *portLock) read() (portRecord, error) {
	f, err := os.OpenFile(l.data, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return portRecord{}, nil
	}
	if err != nil {
		return portRecord{}, fmt.Errorf("opening %s: %w", l.data, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxPortRecord))
	if err != nil {
		return portRecord{}, fmt.Errorf("reading %s: %w", l.data, err)
	}
	var r portRecord
	if json.Unmarshal(raw, &r) != nil {
		return portRecord{}, nil
	}
	return r, nil
}

// write replaces the record, or removes it when it holds no attachment.
func (l *portLock) write(r portRecord) error {
	if len(r.Attachments) == 0 {
		if err := os.Remove(l.data); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", l.data, err)
		}
		return nil
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	// Only one writer holds the flock, so the temp name is ours; a link
	// planted there is not followed.
	tmp := l.data + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	_, werr := f.Write(raw)
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, l.data); err != nil {
		return fmt.Errorf("replacing %s: %w", l.data, err)
	}
	return nil
}

// prune drops, from every record in the book, the entries drop reports.
// It goes on past a record it cannot update and returns every error.
func (b portBook) prune(drop func(portEntry) bool) error {
	locks, err := filepath.Glob(filepath.Join(b.Dir, portFilePrefix+"*.lock"))
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range locks {
		l, err := b.lockFile(strings.TrimSuffix(name, ".lock"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, l.prune(drop))
		l.close()
	}
	return errors.Join(errs...)
}

func (l *portLock) prune(drop func(portEntry) bool) error {
	r, err := l.read()
	if err != nil {
		return err
	}
	kept := r.without(drop)
	if len(kept.Attachments) == len(r.Attachments) {
		return nil
	}
	return l.write(kept)
}
