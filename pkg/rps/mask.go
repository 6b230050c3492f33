// Package rps handles CPU masks in the kernel's format and applies Receive
// Packet Steering and Receive Flow Steering to a device's receive queues.
//
// A [Mask] is parsed from what operators write ("all", "0-3,8", "fff") and
// printed the way the kernel reads and prints rps_cpus. [Apply] and [Read]
// work on <sysRoot>/class/net/<dev>/queues/rx-*/ under a configurable sysfs
// root. /sys/class/net only shows the devices of the network namespace that
// mounted that sysfs, so code running on behalf of another namespace gets a
// matching sysfs from [WithNetnsSysfs].
package rps

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// MaxCPUs bounds the CPU numbers Parse, ParseKernel and PossibleCPUs accept.
// It is twice the largest NR_CPUS of common architectures, so any real
// machine fits and a hostile input cannot make us allocate much.
const MaxCPUs = 16384

// maxListDigits is how many decimal digits a CPU number in a list may have.
// It is also what tells a list ("1,2") from a multi-group hex mask, whose
// groups below the first have 8 digits.
const maxListDigits = 4

// Mask is a set of CPUs. The zero Mask holds no CPUs, which turns RPS off.
// Masks are comparable with ==; Equal says the same thing in words.
type Mask struct {
	// bits holds CPU 8*i+j in bit j of byte i, without trailing zero bytes,
	// so that equal sets have equal representations. A string keeps Mask
	// comparable, and so usable in comparable structs such as Settings.
	bits string
}

// ParseError reports a CPU mask that could not be parsed.
type ParseError struct {
	Input  string // the input as given
	Form   string // the form it was read as: "CPU list", "hex mask", "kernel hex mask"; empty when none applies
	Reason string
}

func (e *ParseError) Error() string {
	if e.Form == "" {
		return fmt.Sprintf("cpu mask %q: %s", e.Input, e.Reason)
	}
	return fmt.Sprintf("cpu mask %q (read as %s): %s", e.Input, e.Form, e.Reason)
}

// MaskOf returns the mask holding cpus. It panics if a CPU is negative or
// not below MaxCPUs, which is a programming error rather than bad input.
func MaskOf(cpus ...int) Mask {
	var b []byte
	for _, c := range cpus {
		if c < 0 || c >= MaxCPUs {
			panic(fmt.Sprintf("rps.MaskOf: cpu %d out of range [0, %d)", c, MaxCPUs))
		}
		b = setBit(b, c)
	}
	return fromBytes(b)
}

// Parse parses a CPU set as an operator writes it. ncpu is the number of
// possible CPUs (see PossibleCPUs); a mask naming CPU ncpu or above is an
// error. The forms are:
//
//   - "all": CPUs 0 to ncpu-1.
//   - A CPU list as in /sys/devices/system/cpu/online: comma-separated
//     CPU numbers and inclusive ranges, "0-3,8". Spaces around items are
//     tolerated. CPU numbers have at most 4 decimal digits.
//   - A hex mask as in rps_cpus: "fff", "0f", or 32-bit groups separated by
//     commas, most significant first, "00000001,00000000" (CPU 32). Each group
//     has 1 to 8 hex digits. A single group may carry a 0x prefix. "0" is the
//     empty set, which turns RPS off.
//
// A value containing "-" is a list. A value containing "," is a list when
// every comma-separated item is a decimal number of at most 4 digits ("1,3"),
// and a hex mask otherwise ("1,00000000"). A single plain number is a HEX
// MASK, as the kernel reads it: "3" means CPUs 0 and 1, and "8" means CPU 3,
// not CPU 8; write "8-8" or use hex "100" for CPU 8 alone.
//
// The empty string is an error. Errors are *ParseError naming the input and
// the form it was read as.
func Parse(s string, ncpu int) (Mask, error) {
	if ncpu <= 0 || ncpu > MaxCPUs {
		return Mask{}, &ParseError{Input: s, Reason: fmt.Sprintf("number of possible CPUs %d is outside [1, %d]", ncpu, MaxCPUs)}
	}
	t := strings.TrimSpace(s)
	var (
		m    Mask
		form string
		err  error
	)
	switch {
	case t == "":
		return Mask{}, &ParseError{Input: s, Reason: `empty; use "0" for no CPUs`}
	case t == "all":
		cpus := make([]int, ncpu)
		for i := range cpus {
			cpus[i] = i
		}
		return MaskOf(cpus...), nil
	case isList(t):
		form = "CPU list"
		m, err = parseList(t)
	default:
		form = "hex mask"
		m, err = parseHex(t, true)
	}
	if err != nil {
		return Mask{}, &ParseError{Input: s, Form: form, Reason: err.Error()}
	}
	if top := m.highest(); top >= ncpu {
		return Mask{}, &ParseError{Input: s, Form: form, Reason: fmt.Sprintf("names CPU %d, but only CPUs 0-%d are possible", top, ncpu-1)}
	}
	return m, nil
}

// ParseKernel parses a mask as the kernel prints it in rps_cpus or xps_cpus:
// 32-bit hex groups separated by commas, most significant first, with a
// trailing newline ("3\n", "00000000,0000000f\n"). It does not bound the
// CPUs by a count. Errors are *ParseError.
func ParseKernel(s string) (Mask, error) {
	t := strings.TrimRight(s, " \t\n")
	if t == "" {
		return Mask{}, &ParseError{Input: s, Form: "kernel hex mask", Reason: "empty"}
	}
	m, err := parseHex(t, false)
	if err != nil {
		return Mask{}, &ParseError{Input: s, Form: "kernel hex mask", Reason: err.Error()}
	}
	return m, nil
}

// isList reports whether s is written as a CPU list; see Parse.
func isList(s string) bool {
	if strings.Contains(s, "-") {
		return true
	}
	if !strings.Contains(s, ",") {
		return false
	}
	for item := range strings.SplitSeq(s, ",") {
		if !isShortDecimal(strings.TrimSpace(item)) {
			return false
		}
	}
	return true
}

func isShortDecimal(s string) bool {
	return s != "" && len(s) <= maxListDigits && strings.Trim(s, "0123456789") == ""
}

// parseList parses "0-3,8"; the returned error is a reason for ParseError.
func parseList(s string) (Mask, error) {
	var b []byte
	for item := range strings.SplitSeq(s, ",") {
		lo, hi, err := parseRange(strings.TrimSpace(item))
		if err != nil {
			return Mask{}, err
		}
		for c := lo; c <= hi; c++ {
			b = setBit(b, c)
		}
	}
	return fromBytes(b), nil
}

// parseRange parses "3" or "0-3" into an inclusive range.
func parseRange(item string) (lo, hi int, err error) {
	if item == "" {
		return 0, 0, fmt.Errorf("empty item")
	}
	first, last, isRange := strings.Cut(item, "-")
	lo, err = parseCPU(first, item)
	if err != nil || !isRange {
		return lo, lo, err
	}
	hi, err = parseCPU(last, item)
	if err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("range %q runs backwards", item)
	}
	return lo, hi, nil
}

func parseCPU(s, item string) (int, error) {
	s = strings.TrimSpace(s)
	if !isShortDecimal(s) {
		return 0, fmt.Errorf("item %q: %q is not a CPU number of 1 to %d decimal digits", item, s, maxListDigits)
	}
	return strconv.Atoi(s)
}

// parseHex parses comma-separated 32-bit hex groups, most significant first.
// prefixOK allows a 0x prefix on a single group.
func parseHex(s string, prefixOK bool) (Mask, error) {
	groups := strings.Split(s, ",")
	if len(groups) > MaxCPUs/32 {
		return Mask{}, fmt.Errorf("%d groups of 32 CPUs exceed the limit of %d CPUs", len(groups), MaxCPUs)
	}
	if len(groups) == 1 && prefixOK {
		if rest, ok := strings.CutPrefix(s, "0x"); ok {
			groups[0] = rest
		} else if rest, ok := strings.CutPrefix(s, "0X"); ok {
			groups[0] = rest
		}
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		if len(groups) > 1 && (strings.HasPrefix(g, "0x") || strings.HasPrefix(g, "0X")) {
			return Mask{}, fmt.Errorf("group %q: a 0x prefix is only allowed on a single group", g)
		}
		if len(g) == 0 || len(g) > 8 {
			return Mask{}, fmt.Errorf("group %q must have 1 to 8 hex digits (32 CPUs per comma-separated group)", g)
		}
		w, err := strconv.ParseUint(g, 16, 32)
		if err != nil {
			return Mask{}, fmt.Errorf("group %q is not hexadecimal", g)
		}
		j := len(groups) - 1 - i // groups come most significant first
		b[4*j], b[4*j+1], b[4*j+2], b[4*j+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
	return fromBytes(b), nil
}

func setBit(b []byte, cpu int) []byte {
	for len(b) <= cpu/8 {
		b = append(b, 0)
	}
	b[cpu/8] |= 1 << (cpu % 8)
	return b
}

func fromBytes(b []byte) Mask {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return Mask{bits: string(b)}
}

// word returns the j-th 32-bit group, CPUs 32*j to 32*j+31.
func (m Mask) word(j int) uint32 {
	var w uint32
	for k := 3; k >= 0; k-- {
		w <<= 8
		if i := 4*j + k; i < len(m.bits) {
			w |= uint32(m.bits[i])
		}
	}
	return w
}

// String returns the mask the way the kernel reads it: hex 32-bit groups,
// most significant first, separated by commas, the first group without
// leading zeros and the others padded to 8 digits. The zero Mask is "0".
func (m Mask) String() string {
	n := (len(m.bits) + 3) / 4
	if n == 0 {
		return "0"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%x", m.word(n-1))
	for j := n - 2; j >= 0; j-- {
		fmt.Fprintf(&sb, ",%08x", m.word(j))
	}
	return sb.String()
}

// Equal reports whether m and o hold the same CPUs.
func (m Mask) Equal(o Mask) bool {
	return m == o
}

// IsZero reports whether m holds no CPUs.
func (m Mask) IsZero() bool {
	return m.bits == ""
}

// CPUs returns the CPUs in m in ascending order.
func (m Mask) CPUs() []int {
	var cpus []int
	for i := 0; i < len(m.bits); i++ {
		for b := m.bits[i]; b != 0; b &= b - 1 {
			cpus = append(cpus, 8*i+bits.TrailingZeros8(b))
		}
	}
	return cpus
}

// highest returns the highest CPU in m, or -1 for the zero Mask.
func (m Mask) highest() int {
	if m.IsZero() {
		return -1
	}
	last := len(m.bits) - 1
	return 8*last + 7 - bits.LeadingZeros8(m.bits[last])
}
