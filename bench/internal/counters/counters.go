// Package counters parses the kernel's SNMP-style counter files
// (/proc/net/netstat, /proc/net/snmp: a header line of names followed by a
// line of values, both starting with the same "Prefix:") into
// "Prefix.Name" keys, and subtracts two snapshots. It is what
// `nstat -az` prints, without needing nstat inside the namespace.
package counters

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Snapshot maps "TcpExt.TCPSACKReorder"-style keys to counter values.
type Snapshot map[string]int64

// Parse reads one or more counter files concatenated.
func Parse(text string) (Snapshot, error) {
	s := Snapshot{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var names []string
	prefix := ""
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if names == nil {
			prefix, names = f[0], f[1:]
			continue
		}
		if f[0] != prefix || len(f)-1 != len(names) {
			return nil, fmt.Errorf("parsing counters line %d: values %q do not match header %q with %d names", line, f[0], prefix, len(names))
		}
		p := strings.TrimSuffix(prefix, ":")
		for i, v := range f[1:] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parsing counter %s.%s on line %d: %w", p, names[i], line, err)
			}
			s[p+"."+names[i]] = n
		}
		names = nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading counters: %w", err)
	}
	if names != nil {
		return nil, fmt.Errorf("parsing counters: header %q has no value line", prefix)
	}
	return s, nil
}

// Delta returns after[key] - before[key]; a key missing from either
// snapshot is an error, so a renamed counter cannot read as zero.
func Delta(before, after Snapshot, key string) (int64, error) {
	b, okb := before[key]
	a, oka := after[key]
	if !okb || !oka {
		return 0, fmt.Errorf("counter %s is missing from a snapshot", key)
	}
	return a - b, nil
}
