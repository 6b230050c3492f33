package vm

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// entryKind is the type of one file in the guest's root filesystem.
type entryKind int

const (
	kindDir entryKind = iota
	kindFile
	kindSymlink
	kindCharDev
)

// entry is one file of the guest: its content comes from a host file
// (hostPath), from memory (data), or is a link target or device number.
type entry struct {
	kind         entryKind
	perm         fs.FileMode
	hostPath     string
	data         []byte
	target       string
	major, minor uint32
}

// Tree is the guest's root filesystem, collected before it is written as a
// cpio archive. Guest paths are absolute and cleaned. Host paths mirrored
// with AddHostPath keep their absolute path, and every symlink met on the
// way (/lib -> usr/lib, /etc/alternatives/…) is mirrored too, so the
// guest resolves them as the host does.
type Tree struct {
	entries map[string]entry
}

// NewTree returns an empty tree.
func NewTree() *Tree {
	return &Tree{entries: map[string]entry{}}
}

// AddDir adds an empty directory.
func (t *Tree) AddDir(p string, perm fs.FileMode) error {
	return t.add(p, entry{kind: kindDir, perm: perm})
}

// AddData adds a file with the given content.
func (t *Tree) AddData(p string, perm fs.FileMode, data []byte) error {
	return t.add(p, entry{kind: kindFile, perm: perm, data: data})
}

// AddHostFileAs adds the host file host at guest path p, read when the
// tree is written.
func (t *Tree) AddHostFileAs(p, host string, perm fs.FileMode) error {
	return t.add(p, entry{kind: kindFile, perm: perm, hostPath: host})
}

// AddSymlink adds a symbolic link p pointing to target.
func (t *Tree) AddSymlink(p, target string) error {
	return t.add(p, entry{kind: kindSymlink, target: target, perm: 0o777})
}

// AddCharDev adds a character device node.
func (t *Tree) AddCharDev(p string, perm fs.FileMode, major, minor uint32) error {
	return t.add(p, entry{kind: kindCharDev, perm: perm, major: major, minor: minor})
}

// Has reports whether p is in the tree.
func (t *Tree) Has(p string) bool {
	_, ok := t.entries[path.Clean(p)]
	return ok
}

// HasUnder reports whether the tree holds anything strictly below dir.
func (t *Tree) HasUnder(dir string) bool {
	prefix := path.Clean(dir) + "/"
	for p := range t.entries {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// add records e at p. Adding the same kind twice is allowed (the later
// content wins for files); anything else at an existing path, or below a
// non-directory, is an error naming the path.
func (t *Tree) add(p string, e entry) error {
	if !path.IsAbs(p) {
		return fmt.Errorf("adding %s to guest tree: not an absolute path", p)
	}
	p = path.Clean(p)
	if p == "/" {
		return fmt.Errorf("adding / to guest tree: the root always exists")
	}
	if old, ok := t.entries[p]; ok && old.kind != e.kind {
		return fmt.Errorf("adding %s to guest tree: already present as another file type", p)
	}
	for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
		if old, ok := t.entries[dir]; ok && old.kind != kindDir {
			return fmt.Errorf("adding %s to guest tree: parent %s is not a directory", p, dir)
		}
	}
	t.entries[p] = e
	return nil
}

// WriteCPIO writes the tree as a newc archive, in path order, with any
// parent directory not added explicitly written as mode 0755 first.
func (t *Tree) WriteCPIO(w io.Writer) error {
	cw := NewCPIOWriter(w)
	written := map[string]bool{}
	for _, p := range t.paths() {
		if err := t.writeParents(cw, p, written); err != nil {
			return err
		}
		if err := t.writeEntry(cw, p, t.entries[p]); err != nil {
			return err
		}
		written[p] = true
	}
	return cw.Close()
}

func (t *Tree) paths() []string {
	ps := make([]string, 0, len(t.entries))
	for p := range t.entries {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

func (t *Tree) writeParents(cw *CPIOWriter, p string, written map[string]bool) error {
	var missing []string
	for dir := path.Dir(p); dir != "/" && !written[dir]; dir = path.Dir(dir) {
		missing = append(missing, dir)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := cw.Dir(missing[i], 0o755); err != nil {
			return err
		}
		written[missing[i]] = true
	}
	return nil
}

func (t *Tree) writeEntry(cw *CPIOWriter, p string, e entry) error {
	switch e.kind {
	case kindDir:
		return cw.Dir(p, e.perm)
	case kindSymlink:
		return cw.Symlink(p, e.target)
	case kindCharDev:
		return cw.CharDev(p, e.perm, e.major, e.minor)
	}
	if e.hostPath == "" {
		return cw.File(p, e.perm, int64(len(e.data)), bytes.NewReader(e.data))
	}
	return writeHostFile(cw, p, e)
}

func writeHostFile(cw *CPIOWriter, p string, e entry) error {
	f, err := os.Open(e.hostPath)
	if err != nil {
		return fmt.Errorf("reading %s for guest: %w", e.hostPath, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading %s for guest: %w", e.hostPath, err)
	}
	return cw.File(p, e.perm, fi.Size(), f)
}

// String renders the tree as one sorted line per entry, for tests and
// debugging: "path dir|file|symlink|chardev detail".
func (t *Tree) String() string {
	var b strings.Builder
	for _, p := range t.paths() {
		e := t.entries[p]
		switch e.kind {
		case kindDir:
			fmt.Fprintf(&b, "%s dir %o\n", p, e.perm)
		case kindSymlink:
			fmt.Fprintf(&b, "%s symlink %s\n", p, e.target)
		case kindCharDev:
			fmt.Fprintf(&b, "%s chardev %d,%d\n", p, e.major, e.minor)
		case kindFile:
			src := "data"
			if e.hostPath != "" {
				src = "host:" + e.hostPath
			}
			fmt.Fprintf(&b, "%s file %o %s\n", p, e.perm, src)
		}
	}
	return b.String()
}
