// Package runmark keeps the plugins' short-lived records under
// /run/netsteer (cached probes, cached IPAM STATUS successes) from
// piling up: each is written again by whoever finds it stale, but a
// record whose key will never come back (a replaced binary, a removed
// network) would otherwise stay until the node reboots.
package runmark

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Prune removes the regular files in dir whose names start with prefix
// and that were last written ttl or longer before now: records no reader
// would trust any more. Best effort, one directory read; a file another
// process is replacing at that moment is rewritten by it anyway.
func Prune(dir, prefix string, ttl time.Duration, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) >= ttl {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
