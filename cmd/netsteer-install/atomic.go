package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeAtomic makes path hold data with mode, so that a reader (a runtime
// exec'ing a plugin, containerd loading conf_dir) sees either the old file
// or the complete new one: temp file in the same directory, fsync, rename,
// fsync of the directory so the rename survives a crash. It reports whether
// it wrote anything: a file that already holds data is left alone.
func writeAtomic(path string, data []byte, mode fs.FileMode) (bool, error) {
	// A symlink, FIFO or device at path is refused, never followed or read.
	old, err := readDest(path, maxBinaryBytes)
	if err != nil {
		return false, err
	}
	if old != nil && bytes.Equal(old.data, data) {
		return false, chmodDest(path, mode)
	}
	dir, base := filepath.Split(path)
	// The leading dot hides the temp file from runtimes, which look plugins
	// up by exact name and load only *.conf, *.conflist and *.json.
	tmp, err := os.CreateTemp(dir, "."+base+".netsteer-tmp-*")
	if err != nil {
		return false, fmt.Errorf("creating temp file for %s: %w", path, err)
	}
	if err := fillAndRename(tmp, path, data, mode); err != nil {
		os.Remove(tmp.Name()) // best effort: the error below is what matters
		return false, err
	}
	return true, syncDir(dir)
}

func fillAndRename(tmp *os.File, path string, data []byte, mode fs.FileMode) error {
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("setting mode of %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp.Name(), path, err)
	}
	return nil
}

func syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
