// Package sysctl names network sysctls and reads, writes and inherits them.
//
// A [Key] is a sysctl below /proc/sys/net held as path segments, never as a
// dotted string turned into a path: interface names may contain dots
// (eth0.100), so "net.ipv4.conf.eth0.100.rp_filter" has to become
// net/ipv4/conf/eth0.100/rp_filter, and a key must never be able to name
// anything outside net/ ("..", "/", "%2f"). [FS] reads and writes keys under a
// configurable root, so production uses /proc/sys and tests use a temporary
// directory tree. Which network namespace a key refers to is decided by the
// thread that opens the file, not by this package.
package sysctl

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLen is the longest sysctl name ParseKey accepts, in bytes.
const MaxKeyLen = 256

// maxIfnameLen is IFNAMSIZ-1: the kernel rejects longer interface names, so a
// longer substitution can only be a mistake.
const maxIfnameLen = 15

// ifnamePlaceholder is the segment that stands for the interface name.
const ifnamePlaceholder = "IFNAME"

// Key is a sysctl below net/, held as path segments. The zero Key is invalid;
// valid keys come from ParseKey. Keys are comparable and usable as map keys.
type Key struct {
	// path holds the segments joined by "/", e.g. "net/ipv4/conf/eth0.100/rp_filter".
	// No segment contains "/", so the join is reversible.
	path string
}

// KeyError reports a sysctl name that ParseKey rejected.
type KeyError struct {
	Key    string // the input as given
	Reason string
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("sysctl key %q: %s", e.Key, e.Reason)
}

// ParseKey parses a network sysctl name. The accepted forms are:
//
//   - dotted, as in sysctl.conf: "net.ipv4.tcp_keepalive_time";
//   - slashed, as sysctl(8) also accepts, where dots inside a segment are
//     literal: "net/ipv4/conf/eth0.100/rp_filter";
//   - dotted with an interface name that contains dots, in the per-interface
//     trees net.{ipv4,ipv6}.{conf,neigh}.<ifname>.<leaf>: every segment
//     between the fourth and the last belongs to the interface name, so
//     "net.ipv4.conf.eth0.100.rp_filter" names net/ipv4/conf/eth0.100/rp_filter.
//
// A segment equal to "IFNAME" is replaced by ifname after splitting, so an
// ifname containing dots stays one segment. Using IFNAME with an empty ifname
// is an error.
//
// ParseKey rejects names that do not start with the segment "net", that have
// fewer than two segments, that start with "/", that are longer than
// MaxKeyLen bytes, and segments that are empty or ".", or that contain "..",
// "/", "%", whitespace, control characters or invalid UTF-8. Errors are of
// type *KeyError.
func ParseKey(s, ifname string) (Key, error) {
	bad := func(reason string, args ...any) (Key, error) {
		return Key{}, &KeyError{Key: s, Reason: fmt.Sprintf(reason, args...)}
	}
	switch {
	case s == "":
		return bad("empty name")
	case len(s) > MaxKeyLen:
		return bad("longer than %d bytes", MaxKeyLen)
	case strings.HasPrefix(s, "/"):
		return bad("absolute path; name the key relative to /proc/sys, starting with net")
	}
	segs := splitName(s)
	for i, seg := range segs {
		if seg != ifnamePlaceholder {
			continue
		}
		if ifname == "" {
			return bad("uses %s but no interface name was given", ifnamePlaceholder)
		}
		if len(ifname) > maxIfnameLen {
			return bad("interface name %q is longer than %d bytes", ifname, maxIfnameLen)
		}
		segs[i] = ifname
	}
	for _, seg := range segs {
		if reason := segmentProblem(seg); reason != "" {
			return bad("segment %q: %s", seg, reason)
		}
	}
	if segs[0] != "net" {
		return bad("not a network sysctl: must start with net")
	}
	if len(segs) < 2 {
		return bad("names only net; need at least two segments")
	}
	return Key{path: strings.Join(segs, "/")}, nil
}

// splitName splits a name into segments without validating them.
func splitName(s string) []string {
	if strings.Contains(s, "/") {
		return strings.Split(s, "/")
	}
	segs := strings.Split(s, ".")
	if !isPerInterfaceTree(segs) {
		return segs
	}
	ifname := strings.Join(segs[3:len(segs)-1], ".")
	// An empty dotted part (eth0..100) is not joined into an interface name:
	// it is far more likely a typo, and it stays an empty segment that is
	// rejected. The slashed form can still name such an interface.
	for _, part := range segs[3 : len(segs)-1] {
		if part == "" {
			return segs
		}
	}
	return []string{segs[0], segs[1], segs[2], ifname, segs[len(segs)-1]}
}

// isPerInterfaceTree reports whether dotted segments address a leaf in one
// of the trees whose fourth segment is an interface name.
func isPerInterfaceTree(segs []string) bool {
	if len(segs) < 5 || segs[0] != "net" {
		return false
	}
	return (segs[1] == "ipv4" || segs[1] == "ipv6") && (segs[2] == "conf" || segs[2] == "neigh")
}

// segmentProblem returns why seg cannot be a path segment, or "" when it can.
func segmentProblem(seg string) string {
	switch {
	case seg == "":
		return "empty"
	case seg == ".":
		return "relative path element"
	case strings.Contains(seg, ".."):
		// Covers the ".." element and also names like "a..b": the kernel
		// allows them for interfaces, but no sane key needs one, and a path
		// free of ".." is easy to audit.
		return `contains ".."`
	case !utf8.ValidString(seg):
		return "invalid UTF-8"
	}
	for _, r := range seg {
		switch {
		case r == '/':
			return `contains "/"`
		case r == '%':
			// Never part of a kernel sysctl name; rejecting it stops
			// URL-encoded separators such as %2f from slipping through
			// any later decoding step.
			return `contains "%"`
		case r == 0:
			return "contains NUL"
		case unicode.IsSpace(r):
			return "contains whitespace"
		case unicode.IsControl(r):
			return "contains a control character"
		}
	}
	return ""
}

// String returns the key in dotted form when that form parses back to the
// same key, and in slashed form otherwise (a segment contains a dot, or the
// dotted form would be read as a per-interface name with dots).
func (k Key) String() string {
	segs := strings.Split(k.path, "/")
	for _, seg := range segs {
		if strings.Contains(seg, ".") {
			return k.path
		}
	}
	if len(segs) > 5 && isPerInterfaceTree(segs) {
		return k.path
	}
	return strings.Join(segs, ".")
}

// Path returns the key as a path relative to the sysctl root, for example
// "net/ipv4/conf/eth0.100/rp_filter". It never starts with "/" and never
// contains "." or ".." elements.
func (k Key) Path() string {
	return k.path
}

// Compare returns -1, 0 or +1 ordering keys by path, for sorting.
func (k Key) Compare(o Key) int {
	return strings.Compare(k.path, o.path)
}
