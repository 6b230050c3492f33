package vm

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxSymlinkHops bounds symlink resolution, as the kernel's ELOOP limit does.
const maxSymlinkHops = 40

// AddHostPath mirrors host path p into the guest at the same path: a file,
// a symlink chain and its final target, or a directory with its contents.
func (t *Tree) AddHostPath(p string) error {
	real, err := t.mirrorSymlinks(p)
	if err != nil {
		return err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("mirroring %s into guest: %w", p, err)
	}
	if !fi.IsDir() {
		return t.AddHostFileAs(real, real, fi.Mode().Perm())
	}
	return filepath.WalkDir(real, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("mirroring %s into guest: %w", q, err)
		}
		return t.addWalked(q, d)
	})
}

// addWalked adds one entry met while walking a mirrored directory.
func (t *Tree) addWalked(q string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return fmt.Errorf("mirroring %s into guest: %w", q, err)
	}
	switch {
	case d.IsDir():
		return t.AddDir(q, info.Mode().Perm())
	case d.Type()&fs.ModeSymlink != 0:
		return t.addWalkedSymlink(q)
	case d.Type().IsRegular():
		return t.AddHostFileAs(q, q, info.Mode().Perm())
	}
	return nil // sockets, fifos and devices have no place in the guest
}

// addWalkedSymlink mirrors a symlink inside a mirrored directory and, when
// it resolves, its target, wherever that lives. A dangling link is kept as is.
func (t *Tree) addWalkedSymlink(q string) error {
	if _, err := os.Stat(q); err != nil {
		target, rerr := os.Readlink(q)
		if rerr != nil {
			return fmt.Errorf("mirroring symlink %s into guest: %w", q, rerr)
		}
		return t.AddSymlink(q, target)
	}
	return t.AddHostPath(q)
}

// mirrorSymlinks walks p component by component on the host, adds every
// symlink it meets to the tree, and returns p's fully resolved host path.
func (t *Tree) mirrorSymlinks(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("mirroring %s into guest: not an absolute path", p)
	}
	real, rest := "/", splitPath(p)
	for hops := 0; len(rest) > 0; {
		next := filepath.Join(real, rest[0])
		fi, err := os.Lstat(next)
		if err != nil {
			return "", fmt.Errorf("mirroring %s into guest: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			real, rest = next, rest[1:]
			continue
		}
		if hops++; hops > maxSymlinkHops {
			return "", fmt.Errorf("mirroring %s into guest: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("mirroring %s into guest: %w", p, err)
		}
		if err := t.AddSymlink(next, target); err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(real, target)
		}
		real, rest = "/", append(splitPath(target), rest[1:]...)
	}
	return real, nil
}

func splitPath(p string) []string {
	var parts []string
	for _, s := range strings.Split(filepath.Clean(p), "/") {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return parts
}

// hostFiles returns the host paths of the files read from the host, sorted.
func (t *Tree) hostFiles() []string {
	var files []string
	for _, p := range t.paths() {
		if e := t.entries[p]; e.kind == kindFile && e.hostPath != "" {
			files = append(files, e.hostPath)
		}
	}
	return files
}

// AddHostDir adds host directory p, mirroring symlinks on its way, without
// its contents.
func (t *Tree) AddHostDir(p string) error {
	real, err := t.mirrorSymlinks(p)
	if err != nil {
		return err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("mirroring directory %s into guest: %w", p, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("mirroring directory %s into guest: not a directory", p)
	}
	return t.AddDir(real, fi.Mode().Perm())
}
