package sysctl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNoMatch is wrapped by errors from Glob and Inherit when a pattern or
// key names no existing sysctl.
var ErrNoMatch = errors.New("matched no sysctls")

// FS reads and writes sysctls under Root: "/proc/sys" in production, a
// temporary directory tree in tests. The network namespace that /proc/sys/net
// shows is the one of the thread that opens the file.
type FS struct {
	Root string
}

// file returns the file that holds k.
func (fsys FS) file(k Key) (string, error) {
	if fsys.Root == "" {
		return "", errors.New("sysctl root is not set")
	}
	if k.path == "" {
		return "", errors.New("zero sysctl key")
	}
	return filepath.Join(fsys.Root, filepath.FromSlash(k.path)), nil
}

// Read returns the value of k without its trailing newline. Multi-valued
// sysctls keep the kernel's tab separators, so the result can be written
// back unchanged.
//
// Equivalent to: `sysctl -n $key`.
func (fsys FS) Read(k Key) (string, error) {
	name, err := fsys.file(k)
	if err != nil {
		return "", fmt.Errorf("reading sysctl %s: %w", k, err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("reading sysctl %s: %w", k, err)
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// Write sets k to value after checking it with ValidateValue. It never
// creates files: the kernel never creates sysctls either, so a missing key is
// an error (wrapping an *os.PathError and fs.ErrNotExist) that names the key.
//
// Equivalent to: `sysctl -w $key=$value`.
func (fsys FS) Write(k Key, value string) error {
	if err := ValidateValue(value); err != nil {
		return fmt.Errorf("writing sysctl %s: %w", k, err)
	}
	name, err := fsys.file(k)
	if err != nil {
		return fmt.Errorf("writing sysctl %s: %w", k, err)
	}
	// O_TRUNC is what a shell's `>` does; procfs accepts it, and it keeps
	// plain files (test trees) holding exactly the last value written.
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("writing sysctl %s=%q: %w", k, value, err)
	}
	// The kernel parses each write(2) on its own, so the value must go out in
	// one call; File.Write reports a short write as an error.
	_, werr := f.Write([]byte(value))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("writing sysctl %s=%q: %w", k, value, err)
	}
	return nil
}

// Glob returns the keys matching pattern, sorted by path. The last segment
// of pattern may contain path.Match wildcards (* ? [...] and \ escapes), as
// in "net.ipv4.tcp_keepalive_*"; the other segments are literal. A pattern
// without wildcards returns its own key if that sysctl exists.
//
// Only settings are returned: directories and write-only triggers such as
// net.ipv4.route.flush (mode 0200) are left out. When nothing matches, the
// error names the pattern and wraps ErrNoMatch.
func (fsys FS) Glob(pattern string) ([]Key, error) {
	k, err := ParseKey(pattern, "")
	if err != nil {
		return nil, err
	}
	return fsys.expand(k, pattern)
}

// expand lists the sysctls matching k, whose last segment may be a pattern.
func (fsys FS) expand(k Key, pattern string) ([]Key, error) {
	dir, leaf := path.Split(k.path)
	if _, err := path.Match(leaf, ""); err != nil {
		return nil, fmt.Errorf("sysctl pattern %q: %w", pattern, err)
	}
	parent := Key{path: strings.TrimSuffix(dir, "/")}
	dirName, err := fsys.file(parent)
	if err != nil {
		return nil, fmt.Errorf("expanding sysctl pattern %q: %w", pattern, err)
	}
	entries, err := os.ReadDir(dirName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sysctl pattern %q: %w (%w)", pattern, ErrNoMatch, err)
	}
	if err != nil {
		return nil, fmt.Errorf("expanding sysctl pattern %q: %w", pattern, err)
	}
	var keys []Key
	for _, e := range entries {
		ok, err := matchSetting(e, leaf)
		if err != nil {
			return nil, fmt.Errorf("expanding sysctl pattern %q: %w", pattern, err)
		}
		if ok {
			keys = append(keys, Key{path: parent.path + "/" + e.Name()})
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("sysctl pattern %q: %w", pattern, ErrNoMatch)
	}
	slices.SortFunc(keys, Key.Compare)
	return keys, nil
}

// matchSetting reports whether e matches the pattern leaf and is a readable
// regular file whose name is a valid key segment.
func matchSetting(e fs.DirEntry, leaf string) (bool, error) {
	// Names no Key could spell cannot be configured either, so they are not
	// offered; /proc/sys has none.
	if segmentProblem(e.Name()) != "" || !e.Type().IsRegular() {
		return false, nil
	}
	// A literal leaf must match its own name even if it contains \, which
	// path.Match would treat as an escape.
	if e.Name() != leaf {
		if ok, _ := path.Match(leaf, e.Name()); !ok {
			return false, nil
		}
	}
	info, err := e.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // vanished between listing and stat, like a removed interface
	}
	if err != nil {
		return false, err
	}
	return info.Mode().Perm()&0o444 != 0, nil
}

// MaxInheritedKeys bounds how many keys Inherit may return in total, so
// that a handful of broad patterns cannot make one ADD read and write
// thousands of files.
const MaxInheritedKeys = 1024

// Inherit reads from host the current values of every sysctl matching
// patterns. Each pattern is parsed like ParseKey with ifname, and its last
// segment may hold wildcards as in FS.Glob. Repeated patterns are read once.
//
// Only keys a pod's namespace can take are inherited. A glob leaves out the
// keys that ScopeProblem refuses (node-wide effect, or host namespace only)
// and the read-only ones, such as tcp_available_congestion_control: they
// could only fail when written. A literal key of either kind is an error
// naming it, as is a pattern that is invalid, matches nothing, or cannot
// be read, and more than MaxInheritedKeys keys in total.
func Inherit(host FS, patterns []string, ifname string) (map[Key]string, error) {
	values := make(map[Key]string)
	seen := make(map[string]bool, len(patterns))
	for _, p := range patterns {
		if seen[p] {
			continue
		}
		seen[p] = true
		keys, err := host.inheritable(p, ifname)
		if err != nil {
			return nil, fmt.Errorf("inheriting sysctls: %w", err)
		}
		for _, k := range keys {
			if _, ok := values[k]; ok {
				continue
			}
			if len(values) == MaxInheritedKeys {
				return nil, fmt.Errorf("inheriting sysctls: pattern %q: more than %d keys in total", p, MaxInheritedKeys)
			}
			v, err := host.Read(k)
			if err != nil {
				return nil, fmt.Errorf("inheriting sysctls for pattern %q: %w", p, err)
			}
			values[k] = v
		}
	}
	return values, nil
}

// inheritable expands one inheritSysctls pattern to the keys Inherit copies.
func (fsys FS) inheritable(p, ifname string) ([]Key, error) {
	k, err := ParseKey(p, ifname)
	if err != nil {
		return nil, err
	}
	literal := !IsPattern(p)
	if why := ScopeProblem(k); literal && why != "" {
		return nil, &KeyError{Key: p, Reason: why}
	}
	keys, err := fsys.expand(k, p)
	if err != nil {
		return nil, err
	}
	out := keys[:0]
	for _, k := range keys {
		switch {
		case literal && !fsys.writable(k):
			return nil, &KeyError{Key: p, Reason: "read-only: a pod's namespace cannot take its value"}
		case ScopeProblem(k) == "" && fsys.writable(k):
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sysctl pattern %q: %w (every match is read-only or not confined to a pod)", p, ErrNoMatch)
	}
	return out, nil
}

// writable reports whether the file of k has a write permission bit: the
// kernel's mode for sysctls a namespace may set.
func (fsys FS) writable(k Key) bool {
	name, err := fsys.file(k)
	if err != nil {
		return false
	}
	info, err := os.Stat(name)
	return err == nil && info.Mode().Perm()&0o222 != 0
}

// IsPattern reports whether an inheritSysctls entry has wildcards (in its
// last segment, the only place they act).
func IsPattern(s string) bool {
	return strings.ContainsAny(s, "*?[\\")
}

// SortedKeys returns the keys of m sorted by path, so that callers write and
// compare sysctls in a stable order.
func SortedKeys(m map[Key]string) []Key {
	keys := make([]Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, Key.Compare)
	return keys
}

// Setting is one resolved key and the value to write to it.
type Setting struct {
	Key   Key
	Value string
	// FromGlob reports that an inheritSysctls glob chose the key on the
	// host. A pod's netns that lacks it, or shows it read-only, skips it:
	// it is a host-only key the reviewed list (scope.go) does not know,
	// on a kernel other than the one the list was taken from.
	FromGlob bool
}

// WriteSettings writes each setting in order and stops at the first
// failure, which names the key and value. A FromGlob setting the netns
// cannot take is skipped. Run it on a thread inside the target netns:
// /proc/sys/net shows the opener's namespace.
func (fsys FS) WriteSettings(settings []Setting) error {
	for _, s := range settings {
		if s.FromGlob && !fsys.writable(s.Key) {
			continue
		}
		if err := fsys.Write(s.Key, s.Value); err != nil {
			return fmt.Errorf("sysctl %s=%q: %w", s.Key, s.Value, err)
		}
	}
	return nil
}

// ReadKeys reads every key the netns can set, keyed by it; a key it lacks
// or shows read-only is left out (WriteSettings skipped it, or failed on
// it). The first failure is returned.
func (fsys FS) ReadKeys(keys []Key) (map[Key]string, error) {
	out := make(map[Key]string, len(keys))
	for _, k := range keys {
		if !fsys.writable(k) {
			continue
		}
		v, err := fsys.Read(k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}
