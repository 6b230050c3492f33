package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"golang.org/x/sys/unix"
)

// Bounds on what the installer reads. Our binaries are a few MiB; a file
// larger than these at a destination is not one of ours, and reading it
// whole (a symlink to /dev/zero, a huge planted file) would exhaust memory.
const (
	maxBinaryBytes = 256 << 20
	maxConfBytes   = 1 << 20
)

// errNotRegular is wrapped by the errors of readDest for a destination that
// exists but is a symlink, FIFO, device, socket or directory.
var errNotRegular = errors.New("not a regular file")

// destFile is what readDest found at a destination path.
type destFile struct {
	data []byte
	mode fs.FileMode
}

// readDest reads the regular file at path, at most max bytes, without
// following a symlink in its last element and without blocking on a FIFO.
// It returns (nil, nil) when nothing is there. Anything but a regular file
// is an error naming the path and what it is: the installer runs as root
// in the host's directories and must not be steered through a planted link
// into reading, backing up or chmodding another file.
func readDest(path string, max int64) (*destFile, error) {
	f, err := openNoFollow(path, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s: %w; remove it and run the installer again", path, kind(info.Mode()), errNotRegular)
	}
	if info.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d an installed file can be; remove it and run the installer again", path, info.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s grew past %d bytes while being read", path, max)
	}
	return &destFile{data: data, mode: info.Mode().Perm()}, nil
}

// chmodDest sets the mode of the regular file at path through a handle
// opened without following links, so a symlink swapped in is never chmodded
// through.
func chmodDest(path string, mode fs.FileMode) error {
	f, err := openNoFollow(path, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is a %s: %w", path, kind(info.Mode()), errNotRegular)
	}
	if info.Mode().Perm() == mode {
		return nil
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("setting mode of %s: %w", path, err)
	}
	return nil
}

// openNoFollow opens path with O_NOFOLLOW (a symlink is an error, ELOOP),
// O_NONBLOCK (a FIFO opens at once instead of waiting for a writer) and
// O_CLOEXEC.
func openNoFollow(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: %w; the installer does not follow links at its destinations, remove it and run the installer again", path, errNotRegular)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return f, err
}

// kind names a file type for an error message.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return "non-regular file"
}

// tempPattern matches the names writeAtomic gives its temp files
// (os.CreateTemp's random part is digits).
var tempPattern = regexp.MustCompile(`^\..+\.netsteer-tmp-[0-9]+$`)

// removeStaleTemps deletes temp files an earlier run left in dir when it
// was killed between creating and renaming them. One installer runs per
// node (the DaemonSet's init container), so every such file is stale.
// Only names writeAtomic makes are touched, and os.Remove never follows a
// link. It returns the names removed.
func removeStaleTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !tempPattern.MatchString(e.Name()) || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing stale temp file: %w", err))
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

// readSource reads a file the installer ships (the image's binaries and
// template): links are followed there, since the image is ours, but only
// a regular file of at most max bytes is read, and a FIFO never blocks.
func readSource(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s: %w", path, kind(info.Mode()), errNotRegular)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}
