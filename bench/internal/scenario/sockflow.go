package scenario

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// SockFlowGuard raises net.core.rps_sock_flow_entries for RFS runs and puts
// the previous value back. The sysctl exists only in the initial network
// namespace (it sizes one table for the whole machine), so neither a
// plugin running in a private "host" namespace nor the benchmark can set
// it anywhere else. Restore is idempotent, so the benchmark can also call
// it on interrupt.
type SockFlowGuard struct {
	Path    string // normally /proc/sys/net/core/rps_sock_flow_entries
	Value   int
	Enabled bool

	mu       sync.Mutex
	orig     int
	haveOrig bool
	raised   bool
	touched  bool
}

// Raise writes Value when it is above the current value. It does nothing
// when the guard is disabled.
func (g *SockFlowGuard) Raise() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.Enabled {
		return nil
	}
	cur, err := g.read()
	if err != nil {
		return err
	}
	if !g.haveOrig {
		g.orig, g.haveOrig = cur, true
	}
	if cur >= g.Value {
		return nil
	}
	if err := g.write(g.Value); err != nil {
		return err
	}
	g.raised, g.touched = true, true
	return nil
}

// Restore writes back the value seen before the first Raise, if Raise
// changed it.
func (g *SockFlowGuard) Restore() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.raised {
		return nil
	}
	if err := g.write(g.orig); err != nil {
		return err
	}
	g.raised = false
	return nil
}

// Note says, for the report, what the guard did to the host.
func (g *SockFlowGuard) Note() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case !g.Enabled:
		return "net.core.rps_sock_flow_entries was left alone (run with -global-rfs to raise it): RPS+RFS runs had rps_flow_cnt but the host-wide RFS table as found."
	case g.touched:
		return fmt.Sprintf("net.core.rps_sock_flow_entries (initial netns, host-wide) was set to %d during each RPS+RFS run only, and restored to %d after it.", g.Value, g.orig)
	case g.haveOrig:
		return fmt.Sprintf("net.core.rps_sock_flow_entries was already %d (>= %d) and was not changed.", g.orig, g.Value)
	}
	return "net.core.rps_sock_flow_entries was not needed."
}

func (g *SockFlowGuard) read() (int, error) {
	b, err := os.ReadFile(g.Path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", g.Path, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", g.Path, err)
	}
	return v, nil
}

func (g *SockFlowGuard) write(v int) error {
	if err := os.WriteFile(g.Path, []byte(strconv.Itoa(v)), 0o644); err != nil {
		return fmt.Errorf("writing %d to %s: %w", v, g.Path, err)
	}
	return nil
}
