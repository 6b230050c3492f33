package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// QueueState is what sysfs shows for the first receive queue of a device.
type QueueState struct {
	Dev       string
	RPSCPUs   string // kernel hex mask, e.g. "3" or "00000000,00000003"
	FlowCount int    // rps_flow_cnt
}

// RPSOn reports whether the mask names at least one CPU.
func (q QueueState) RPSOn() bool {
	return strings.Trim(q.RPSCPUs, "0,") != ""
}

// ParseQueueStates reads lines of "dev rps_cpus rps_flow_cnt".
func ParseQueueStates(text string) ([]QueueState, error) {
	var qs []QueueState
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("parsing queue state line %d %q: want device, rps_cpus, rps_flow_cnt", i+1, line)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("parsing rps_flow_cnt of %s: %w", f[0], err)
		}
		qs = append(qs, QueueState{Dev: f[0], RPSCPUs: f[1], FlowCount: n})
	}
	return qs, nil
}

// FormatQueueStates prints states for the report.
func FormatQueueStates(qs []QueueState) string {
	if len(qs) == 0 {
		return "no bridge ports found"
	}
	parts := make([]string, len(qs))
	for i, q := range qs {
		parts[i] = fmt.Sprintf("%s rps_cpus=%s rps_flow_cnt=%d", q.Dev, q.RPSCPUs, q.FlowCount)
	}
	return strings.Join(parts, "; ")
}

// steeringWant is what a steering config should leave on every host veth.
type steeringWant struct {
	rps       bool // some CPU in rps_cpus; false means all zero
	flowCount int  // rps_flow_cnt
}

// check names every queue that differs from w. Two ports are expected:
// one per container of the pair.
func (w steeringWant) check(qs []QueueState) error {
	if len(qs) != 2 {
		return fmt.Errorf("found %d bridge ports, want 2", len(qs))
	}
	var errs []error
	for _, q := range qs {
		if q.RPSOn() != w.rps {
			errs = append(errs, fmt.Errorf("%s rps_cpus=%s, want RPS on=%v", q.Dev, q.RPSCPUs, w.rps))
		}
		if q.FlowCount != w.flowCount {
			errs = append(errs, fmt.Errorf("%s rps_flow_cnt=%d, want %d", q.Dev, q.FlowCount, w.flowCount))
		}
	}
	return errors.Join(errs...)
}
