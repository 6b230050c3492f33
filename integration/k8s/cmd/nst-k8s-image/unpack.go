package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxTarball bounds what one ADD reads (the release tarball is ~20 MB).
const maxTarball = 512 << 20

// unpackVerified reads name from the context directory, checks it against
// the *SHA256SUMS files there, and returns its regular files by clean
// relative path. Links, devices and paths leaving the root are refused.
func unpackVerified(context, name string) (map[string][]byte, error) {
	if name != path.Clean(name) || path.IsAbs(name) || strings.HasPrefix(name, "../") || name == ".." {
		return nil, fmt.Errorf("tarball path %q must be a clean path inside the context", name)
	}
	data, err := readBounded(filepath.Join(context, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	if err := verifySum(context, path.Base(name), data); err != nil {
		return nil, err
	}
	return untar(data)
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTarball+1))
	if err == nil && len(data) > maxTarball {
		err = fmt.Errorf("%s is larger than %d bytes", p, maxTarball)
	}
	return data, err
}

// verifySum requires a line "<sha256>  <base>" in some *SHA256SUMS file of
// the context and that data matches it.
func verifySum(context, base string, data []byte) error {
	sums, err := filepath.Glob(filepath.Join(context, "*SHA256SUMS"))
	if err != nil {
		return err
	}
	got := sha256.Sum256(data)
	for _, s := range sums {
		want, err := sumFor(s, base)
		if err != nil {
			return err
		}
		if want == "" {
			continue
		}
		if want != hex.EncodeToString(got[:]) {
			return fmt.Errorf("sha256 %x does not match %s in %s", got, want, filepath.Base(s))
		}
		return nil
	}
	return fmt.Errorf("no *SHA256SUMS file in %s lists %s", context, base)
}

// sumFor returns the sum sha256sum(1)'s file lists for base, or "".
func sumFor(sumsFile, base string) (string, error) {
	f, err := os.Open(sumsFile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if ok && strings.TrimPrefix(file, "*") == base {
			return strings.ToLower(sum), nil
		}
	}
	return "", sc.Err()
}

func untar(data []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("entry %q leaves the root", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
		case tar.TypeReg:
			b, err := io.ReadAll(io.LimitReader(tr, maxTarball))
			if err != nil {
				return nil, fmt.Errorf("entry %s: %w", hdr.Name, err)
			}
			files[name] = b
		default:
			return nil, fmt.Errorf("entry %s: type %q is not a file or directory", hdr.Name, hdr.Typeflag)
		}
	}
}
