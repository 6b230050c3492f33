package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/netsteer/netsteer/pkg/alias"
)

const syscallNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// hostVeth is a host link carrying a netsteer attachment alias (pkg/alias).
type hostVeth struct {
	Name, Master                 string
	Network, ContainerID, IfName string
	Queues                       []Queue
}

// readHostVeths lists the links under sys/class/net whose alias names a
// netsteer attachment, with their bridge and rx queue settings.
func readHostVeths(sys string) ([]hostVeth, error) {
	dir := filepath.Join(sys, "class", "net")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing network devices: %w", err)
	}
	var out []hostVeth
	for _, e := range entries {
		dev := filepath.Join(dir, e.Name())
		ifalias, err := readSmall(filepath.Join(dev, "ifalias"), 4096)
		if err != nil {
			continue // gone while listing, or no alias support
		}
		network, id, ifname, ok := alias.Parse(strings.TrimSpace(string(ifalias)))
		if !ok {
			continue
		}
		v := hostVeth{Name: e.Name(), Network: network, ContainerID: id, IfName: ifname, Queues: readQueues(dev)}
		if m, err := os.Readlink(filepath.Join(dev, "master")); err == nil {
			v.Master = filepath.Base(m)
		}
		out = append(out, v)
	}
	return out, nil
}

// readQueues reads rps_cpus and rps_flow_cnt of each rx queue of dev.
func readQueues(dev string) []Queue {
	qs, _ := filepath.Glob(filepath.Join(dev, "queues", "rx-*"))
	sort.Strings(qs)
	var out []Queue
	for _, q := range qs {
		cpus, err1 := readSmall(filepath.Join(q, "rps_cpus"), 4096)
		flows, err2 := readSmall(filepath.Join(q, "rps_flow_cnt"), 64)
		if err1 != nil || err2 != nil {
			continue // a kernel without CONFIG_RPS has no such files
		}
		out = append(out, Queue{Queue: filepath.Base(q), CPUs: strings.TrimSpace(string(cpus)), FlowCount: strings.TrimSpace(string(flows))})
	}
	return out
}
