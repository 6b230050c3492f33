package rps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Settings is the RPS/RFS state of one receive queue.
type Settings struct {
	// CPUs is written to rps_cpus. The zero Mask turns RPS off.
	CPUs Mask
	// FlowCount is written to rps_flow_cnt when > 0, turning on RFS for the
	// queue (together with net.core.rps_sock_flow_entries). Apply leaves
	// rps_flow_cnt alone when it is 0.
	FlowCount int
}

// Effective returns s as Read reports it after Apply wrote it: the kernel
// rounds rps_flow_cnt up to a power of two (100 reads back as 128). The
// kernel also leaves offline and isolated CPUs out of rps_cpus, which
// Effective cannot know about.
func (s Settings) Effective() Settings {
	if s.FlowCount > 0 {
		n := 1
		for n < s.FlowCount {
			n <<= 1
		}
		s.FlowCount = n
	}
	return s
}

// Apply writes s to every receive queue of dev under sysRoot:
// <sysRoot>/class/net/<dev>/queues/rx-*/rps_cpus, and rps_flow_cnt when
// s.FlowCount > 0. Transmit queues are not touched. It is an error if dev has
// no receive queue. Apply stops at the first failing write; running it again
// converges, since every write sets an absolute value.
//
// Equivalent to: `echo $mask > /sys/class/net/$dev/queues/rx-N/rps_cpus` for
// every N.
func Apply(sysRoot, dev string, s Settings) error {
	if s.FlowCount < 0 {
		return fmt.Errorf("applying rps to device %s: negative flow count %d", dev, s.FlowCount)
	}
	dir, queues, err := rxQueues(sysRoot, dev)
	if err != nil {
		return fmt.Errorf("applying rps to device %s: %w", dev, err)
	}
	files := []struct{ name, value string }{{"rps_cpus", s.CPUs.String()}}
	if s.FlowCount > 0 {
		files = append(files, struct{ name, value string }{"rps_flow_cnt", strconv.Itoa(s.FlowCount)})
	}
	for _, q := range queues {
		for _, f := range files {
			if err := writeFile(filepath.Join(dir, q, f.name), f.value); err != nil {
				return fmt.Errorf("setting %s=%s on device %s queue %s: %w", f.name, f.value, dev, q, err)
			}
		}
	}
	return nil
}

// Read returns the RPS/RFS settings of every receive queue of dev under
// sysRoot, keyed by queue name ("rx-0"). Compare with Settings.Effective.
//
// Equivalent to: `cat /sys/class/net/$dev/queues/rx-*/rps_{cpus,flow_cnt}`.
func Read(sysRoot, dev string) (map[string]Settings, error) {
	dir, queues, err := rxQueues(sysRoot, dev)
	if err != nil {
		return nil, fmt.Errorf("reading rps of device %s: %w", dev, err)
	}
	state := make(map[string]Settings, len(queues))
	for _, q := range queues {
		s, err := readQueue(filepath.Join(dir, q))
		if err != nil {
			return nil, fmt.Errorf("reading rps of device %s queue %s: %w", dev, q, err)
		}
		state[q] = s
	}
	return state, nil
}

func readQueue(dir string) (Settings, error) {
	cpus, err := os.ReadFile(filepath.Join(dir, "rps_cpus"))
	if err != nil {
		return Settings{}, err
	}
	m, err := ParseKernel(string(cpus))
	if err != nil {
		return Settings{}, fmt.Errorf("rps_cpus: %w", err)
	}
	cnt, err := os.ReadFile(filepath.Join(dir, "rps_flow_cnt"))
	if err != nil {
		return Settings{}, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(cnt)))
	if err != nil {
		return Settings{}, fmt.Errorf("rps_flow_cnt: %w", err)
	}
	return Settings{CPUs: m, FlowCount: n}, nil
}

// rxQueues returns the queues directory of dev and its rx-N entries in
// numeric order.
func rxQueues(sysRoot, dev string) (dir string, queues []string, err error) {
	if sysRoot == "" {
		return "", nil, errors.New("sysfs root is not set")
	}
	if err := ValidateDevice(dev); err != nil {
		return "", nil, err
	}
	dir = filepath.Join(sysRoot, "class", "net", dev, "queues")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("device not found in %s: %w", sysRoot, err)
	}
	if err != nil {
		return "", nil, fmt.Errorf("listing queues: %w", err)
	}
	nums := []int{}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "rx-")
		if n, err := strconv.Atoi(rest); ok && err == nil && e.IsDir() {
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		return "", nil, fmt.Errorf("no receive queues in %s", dir)
	}
	// Numeric order, so rx-10 follows rx-9 and errors hit the same queue first every time.
	slices.Sort(nums)
	for _, n := range nums {
		queues = append(queues, "rx-"+strconv.Itoa(n))
	}
	return dir, queues, nil
}

// writeFile writes value to an existing sysfs attribute in one write.
// Without O_CREAT a missing attribute is an error instead of a new file.
func writeFile(name, value string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte(value))
	return errors.Join(werr, f.Close())
}

// ValidateDevice checks dev the way the kernel's dev_valid_name does, so it
// can be used as a path element: 1 to 15 bytes, not "." or "..", and no "/",
// ":", NUL or whitespace.
func ValidateDevice(dev string) error {
	bad := func(reason string) error {
		return fmt.Errorf("invalid device name %q: %s", dev, reason)
	}
	switch {
	case dev == "":
		return bad("empty")
	case len(dev) > 15:
		return bad("longer than 15 bytes")
	case dev == "." || dev == "..":
		return bad("relative path element")
	case strings.ContainsAny(dev, "/:\x00"):
		return bad(`contains "/", ":" or NUL`)
	case strings.IndexFunc(dev, unicode.IsSpace) >= 0:
		return bad("contains whitespace")
	}
	return nil
}

// PossibleCPUs returns the number of possible CPUs (highest possible CPU + 1)
// from <sysRoot>/devices/system/cpu/possible, which holds a CPU list such as
// "0-1" or "0-3,8-11". This is the bound to give Parse: the kernel rejects
// masks wider than that.
func PossibleCPUs(sysRoot string) (int, error) {
	if sysRoot == "" {
		return 0, errors.New("reading possible CPUs: sysfs root is not set")
	}
	name := filepath.Join(sysRoot, "devices", "system", "cpu", "possible")
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, fmt.Errorf("reading possible CPUs: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, fmt.Errorf("reading possible CPUs: %s is empty", name)
	}
	m, err := parseList(s)
	if err != nil {
		return 0, fmt.Errorf("reading possible CPUs from %s: %w", name, &ParseError{Input: s, Form: "CPU list", Reason: err.Error()})
	}
	return m.highest() + 1, nil
}
