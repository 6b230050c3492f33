package sysctl

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxValueLen is the longest value ValidateValue accepts, in bytes. The
// kernel's proc handlers read at most one page per write.
const MaxValueLen = 4096

// ValidateValue reports whether v can be written to a sysctl as one value.
// It rejects empty values, values longer than MaxValueLen bytes, invalid
// UTF-8, and newlines, NUL and other control characters. Tabs are allowed:
// the kernel prints multi-valued sysctls such as net.ipv4.tcp_rmem with tabs
// and accepts them back, which Inherit relies on.
func ValidateValue(v string) error {
	bad := func(reason string) error {
		return fmt.Errorf("sysctl value %s: %s", quoteShort(v), reason)
	}
	switch {
	case v == "":
		return bad("empty")
	case len(v) > MaxValueLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxValueLen))
	case !utf8.ValidString(v):
		return bad("invalid UTF-8")
	}
	for _, r := range v {
		switch {
		case r == '\t':
		case r == '\n' || r == '\r':
			return bad("contains a newline")
		case r == 0:
			return bad("contains NUL")
		case unicode.IsControl(r):
			return bad("contains a control character")
		}
	}
	return nil
}

// quoteShort quotes v for an error message, eliding the middle of long
// values so a 4 KiB value does not flood the log.
func quoteShort(v string) string {
	const keep = 32
	if len(v) <= 2*keep {
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%q...%q (%d bytes)", v[:keep], v[len(v)-keep:], len(v))
}
