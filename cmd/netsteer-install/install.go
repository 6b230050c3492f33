package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

const (
	// recordName is the install record in the destination directory: the
	// sha256 of every binary we wrote. A file whose content matches its
	// record entry is ours to replace; anything else is foreign.
	recordName = ".netsteer-install.json"
	// backupSuffix names the copy kept of a foreign binary we replace.
	backupSuffix = ".netsteer-backup"
)

// record is the install record's content.
type record struct {
	Files map[string]string `json:"files"` // binary name -> hex sha256
}

// binary is one file to install.
type binary struct {
	name string
	data []byte
	mode fs.FileMode
}

// outcome says what installBinary did with one binary.
type outcome string

const (
	unchanged       outcome = "unchanged"
	installed       outcome = "installed"
	updated         outcome = "updated"
	replacedForeign outcome = "replaced foreign binary"
)

// installer puts binaries into dest. Messages for the operator go to log.
type installer struct {
	dest string
	log  io.Writer
}

// installBinaries installs every binary and then updates the record. A
// binary already holding the wanted content is not written. A foreign one
// (present, not what we recorded installing) is copied to
// <name>.netsteer-backup first, and log says so.
func (in installer) installBinaries(bins []binary) (map[string]outcome, error) {
	rec, err := in.readRecord()
	if err != nil {
		return nil, err
	}
	done := map[string]outcome{}
	var errs []error
	for _, b := range bins {
		out, err := in.installBinary(b, rec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done[b.name] = out
		rec.Files[b.name] = digest(b.data)
	}
	// Written even after a failure, so what did land is known to be ours.
	if err := in.writeRecord(rec); err != nil {
		errs = append(errs, err)
	}
	return done, errors.Join(errs...)
}

func (in installer) installBinary(b binary, rec record) (outcome, error) {
	path := filepath.Join(in.dest, b.name)
	cur, err := readDest(path, maxBinaryBytes)
	if err != nil {
		return "", fmt.Errorf("checking the installed %s: %w", b.name, err)
	}
	if cur == nil {
		if _, err := writeAtomic(path, b.data, b.mode); err != nil {
			return "", fmt.Errorf("installing %s: %w", b.name, err)
		}
		return installed, nil
	}
	old := cur.data
	if digest(old) == digest(b.data) {
		if _, err := writeAtomic(path, b.data, b.mode); err != nil { // fixes the mode only
			return "", fmt.Errorf("installing %s: %w", b.name, err)
		}
		return unchanged, nil
	}
	out := updated
	if rec.Files[b.name] != digest(old) {
		if err := in.backup(path, old, cur.mode); err != nil {
			return "", err
		}
		out = replacedForeign
	}
	if _, err := writeAtomic(path, b.data, b.mode); err != nil {
		return "", fmt.Errorf("installing %s: %w", b.name, err)
	}
	return out, nil
}

// backup keeps a foreign binary's content (read without following links)
// next to it before we replace it.
func (in installer) backup(path string, old []byte, mode fs.FileMode) error {
	bak := path + backupSuffix
	if _, err := os.Lstat(bak); err == nil {
		fmt.Fprintf(in.log, "netsteer-install: %s is not a binary netsteer installed; replacing the previous backup %s with it\n", path, bak)
	} else {
		fmt.Fprintf(in.log, "netsteer-install: %s is not a binary netsteer installed; keeping it as %s\n", path, bak)
	}
	if _, err := writeAtomic(bak, old, mode); err != nil {
		return fmt.Errorf("backing up foreign %s: %w", path, err)
	}
	return nil
}

func (in installer) readRecord() (record, error) {
	rec := record{Files: map[string]string{}}
	f, err := readDest(filepath.Join(in.dest, recordName), maxConfBytes)
	if err != nil {
		return rec, fmt.Errorf("reading install record: %w", err)
	}
	if f == nil {
		return rec, nil
	}
	if err := json.Unmarshal(f.data, &rec); err != nil {
		// A damaged record only makes every binary look foreign, which
		// costs backups, not correctness; say so and go on.
		fmt.Fprintf(in.log, "netsteer-install: ignoring unreadable install record %s: %v\n", recordName, err)
		return record{Files: map[string]string{}}, nil
	}
	if rec.Files == nil {
		rec.Files = map[string]string{}
	}
	return rec, nil
}

func (in installer) writeRecord(rec record) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding install record: %w", err)
	}
	if _, err := writeAtomic(filepath.Join(in.dest, recordName), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing install record: %w", err)
	}
	return nil
}

// readBinaries loads the named files from src; all regular, non-hidden
// files when names is empty.
func readBinaries(src string, names []string) ([]binary, error) {
	if len(names) == 0 {
		entries, err := os.ReadDir(src)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", src, err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && e.Name()[0] != '.' {
				names = append(names, e.Name())
			}
		}
	}
	var bins []binary
	for _, name := range names {
		if name == "" || name != filepath.Base(name) || name[0] == '.' {
			return nil, fmt.Errorf("binary name %q is not a plain file name", name)
		}
		path := filepath.Join(src, name)
		data, err := readSource(path, maxBinaryBytes)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		bins = append(bins, binary{name: name, data: data, mode: 0o755})
	}
	if len(bins) == 0 {
		return nil, fmt.Errorf("no binaries found in %s", src)
	}
	return bins, nil
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// summary renders outcomes one per line, sorted by binary name.
func summary(done map[string]outcome) string {
	var s string
	for _, name := range slices.Sorted(maps.Keys(done)) {
		s += fmt.Sprintf("%s: %s\n", name, done[name])
	}
	return s
}
