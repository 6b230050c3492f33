package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runBounded runs the installer with a hard timeout: a FIFO or an endless
// file at a destination must never hang it.
func runBounded(t *testing.T, o options) (stdout, stderr string, err error) {
	t.Helper()
	type outcome struct {
		stdout, stderr string
		err            error
	}
	done := make(chan outcome, 1)
	go func() {
		var out, errb bytes.Buffer
		err := run(context.Background(), o, &out, &errb)
		done <- outcome{out.String(), errb.String(), err}
	}()
	select {
	case r := <-done:
		return r.stdout, r.stderr, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("installer still running after 20 s: it blocked on a destination")
		return "", "", nil
	}
}

// outsideFile is a file outside the node's CNI directories that a planted
// link points at; the test checks that its content and mode never change
// and that no copy of it appears anywhere.
type outsideFile struct {
	path    string
	content string
	mode    os.FileMode
}

func plantOutside(t *testing.T, mode os.FileMode) outsideFile {
	t.Helper()
	f := outsideFile{path: filepath.Join(t.TempDir(), "nst-secret"), content: "nst-secret-content\n", mode: mode}
	writeFile(t, f.path, f.content, mode)
	if err := os.Chmod(f.path, mode); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f outsideFile) check(t *testing.T, dirs ...string) {
	t.Helper()
	st, err := os.Stat(f.path)
	if err != nil {
		t.Fatalf("outside file: %v", err)
	}
	if st.Mode().Perm() != f.mode {
		t.Errorf("outside file mode = %v, want %v: the installer chmodded through a link", st.Mode().Perm(), f.mode)
	}
	if b, _ := os.ReadFile(f.path); string(b) != f.content {
		t.Errorf("outside file content = %q, want unchanged", b)
	}
	for _, dir := range dirs {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			if b, _ := os.ReadFile(filepath.Join(dir, e.Name())); bytes.Contains(b, []byte(f.content)) {
				t.Errorf("%s holds a copy of the outside file: the installer read through a link", filepath.Join(dir, e.Name()))
			}
		}
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// TestInstallerRefusesPlantedDestinations plants, at each destination the
// installer writes, what an attacker with write access to the node's CNI
// directories would: links to files outside, FIFOs, links to /dev/zero.
// Each run must fail at once with an error naming the path and what it is,
// follow no link, read nothing outside, and leave the plant in place.
func TestInstallerRefusesPlantedDestinations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, o options, out outsideFile)
		want  []string
	}{
		{"binary is a symlink to a file outside", func(t *testing.T, o options, out outsideFile) {
			symlink(t, out.path, filepath.Join(o.dest, "vethbridge"))
		}, []string{"vethbridge", "symbolic link"}},
		{"conflist is a symlink to a file outside", func(t *testing.T, o options, out outsideFile) {
			symlink(t, out.path, filepath.Join(o.confDir, o.confName))
		}, []string{confName, "symbolic link"}},
		{"install record is a symlink", func(t *testing.T, o options, out outsideFile) {
			symlink(t, out.path, filepath.Join(o.dest, recordName))
		}, []string{recordName, "symbolic link"}},
		{"backup is a symlink", func(t *testing.T, o options, out outsideFile) {
			writeFile(t, filepath.Join(o.dest, "vethbridge"), "foreign", 0o755)
			symlink(t, out.path, filepath.Join(o.dest, "vethbridge"+backupSuffix))
		}, []string{"vethbridge" + backupSuffix, "symbolic link"}},
		{"binary is a FIFO", func(t *testing.T, o options, _ outsideFile) {
			mkfifo(t, filepath.Join(o.dest, "vethbridge"))
		}, []string{"vethbridge", "FIFO"}},
		{"conflist is a FIFO", func(t *testing.T, o options, _ outsideFile) {
			mkfifo(t, filepath.Join(o.confDir, o.confName))
		}, []string{confName, "FIFO"}},
		{"binary is a symlink to /dev/zero", func(t *testing.T, o options, _ outsideFile) {
			symlink(t, "/dev/zero", filepath.Join(o.dest, "vethbridge"))
		}, []string{"vethbridge", "symbolic link"}},
		{"binary is a directory", func(t *testing.T, o options, _ outsideFile) {
			if err := os.Mkdir(filepath.Join(o.dest, "vethbridge"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"vethbridge", "directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := node(t)
			out := plantOutside(t, 0o600)
			tc.plant(t, o, out)
			before := lsLong(t, o.dest) + lsLong(t, o.confDir)
			start := time.Now()
			_, _, err := runBounded(t, o)
			if err == nil {
				t.Fatal("install succeeded over a planted destination")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			out.check(t, o.dest, o.confDir)
			// The plant stays as it was (only our own files may have landed).
			after := lsLong(t, o.dest) + lsLong(t, o.confDir)
			for _, l := range strings.Split(before, "\n") {
				if l != "" && !strings.Contains(after, l) {
					t.Errorf("planted entry %q changed; after:\n%s", l, after)
				}
			}
			t.Logf("refused in %v: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}

// confName is the conflist every test node installs (see node).
const confName = "10-netsteer.conflist"

// lsLong renders a directory's entries with type, mode and link target.
func lsLong(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		target, _ := os.Readlink(p)
		lines = append(lines, fmt.Sprintf("%s %v %s", p, st.Mode(), target))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestInstallerRemovesStaleTempFiles: temp files a killed run left behind
// (in both directories) are removed by the next run and said so; files
// that only look similar are kept.
func TestInstallerRemovesStaleTempFiles(t *testing.T) {
	o := node(t)
	stale := []string{
		filepath.Join(o.dest, ".vethbridge.netsteer-tmp-123456"),
		filepath.Join(o.confDir, "."+o.confName+".netsteer-tmp-98765"),
	}
	for _, p := range stale {
		writeFile(t, p, strings.Repeat("x", 1<<20), 0o600)
	}
	out := plantOutside(t, 0o600)
	linkTemp := filepath.Join(o.dest, ".host-local.netsteer-tmp-42")
	symlink(t, out.path, linkTemp)
	keep := []string{
		filepath.Join(o.dest, "vethbridge.netsteer-tmp-1"),    // not hidden: not ours
		filepath.Join(o.dest, ".vethbridge.netsteer-tmp-abc"), // not CreateTemp's digits
		filepath.Join(o.confDir, "99-other.conflist"),         // another network's
	}
	for _, p := range keep {
		writeFile(t, p, "keep", 0o644)
	}
	_, stderr, err := runBounded(t, o)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	for _, p := range append(stale, linkTemp) {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("stale temp file %s still there (%v)", p, err)
		}
		if !strings.Contains(stderr, p) {
			t.Errorf("stderr does not report removing %s:\n%s", p, stderr)
		}
	}
	for _, p := range keep {
		if b, err := os.ReadFile(p); err != nil || string(b) != "keep" {
			t.Errorf("%s = %q, %v; want kept", p, b, err)
		}
	}
	out.check(t) // removing a link never touches its target
}

// TestInstallerRefusesUnsafePodCIDRs: a Node podCIDR the plugins would
// refuse is refused before anything is written.
func TestInstallerRefusesUnsafePodCIDRs(t *testing.T) {
	for _, cidr := range []string{"0.0.0.0/0", "::/0", "::ffff:10.244.0.0/120", "127.0.0.0/8", "10.0.0.0/24,10.1.0.0/24"} {
		t.Run(cidr, func(t *testing.T) {
			o := node(t)
			o.podCIDR = cidr
			_, _, err := runBounded(t, o)
			if err == nil || !strings.Contains(err.Error(), strings.Split(cidr, ",")[len(strings.Split(cidr, ","))-1]) {
				t.Fatalf("run = %v, want an error naming %s", err, cidr)
			}
			for _, dir := range []string{o.dest, o.confDir} {
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("%s not empty after a refused pod CIDR", dir)
				}
			}
		})
	}
}
