// Package sysctltest builds fake /proc/sys trees for tests: sysctl.FS
// takes its root as a field, so a test points it at a temp dir.
package sysctltest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Tree writes each "net/ipv4/…" path with its value (and the newline the
// kernel prints) under a temp dir and returns an FS rooted there.
func Tree(t testing.TB, values map[string]string) sysctl.FS {
	t.Helper()
	root := t.TempDir()
	for key, v := range values {
		f := filepath.Join(root, key)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return sysctl.FS{Root: root}
}
