package runmark

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestPruneRemovesOnlyStaleRecordsOfThePrefix(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for name, age := range map[string]time.Duration{
		"probe-old":     10 * time.Minute,
		"probe-edge":    5 * time.Minute,
		"probe-fresh":   time.Minute,
		"ipam-status-x": time.Hour,
		"rules.lock":    time.Hour,
		"probe-future":  -time.Hour,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "probe-dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	Prune(dir, "probe-", 5*time.Minute, now)
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"ipam-status-x", "probe-dir", "probe-fresh", "probe-future", "rules.lock"}
	if !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
	Prune(filepath.Join(dir, "missing"), "probe-", time.Minute, now) // no panic, no error
}
