package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func guardAt(t *testing.T, initial string, value int, enabled bool) (*SockFlowGuard, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rps_sock_flow_entries")
	if err := os.WriteFile(p, []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	return &SockFlowGuard{Path: p, Value: value, Enabled: enabled}, p
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSockFlowGuard(t *testing.T) {
	tests := []struct {
		name        string
		initial     string
		enabled     bool
		wantRaised  string // file content after Raise
		wantRestore string // file content after Restore
		wantNote    string // substring of Note
	}{
		{"raises and restores", "0\n", true, "32768", "0", "restored to 0"},
		{"already high enough", "65536\n", true, "65536", "65536", "already 65536"},
		{"disabled", "0\n", false, "0", "0", "left alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, p := guardAt(t, tt.initial, 32768, tt.enabled)
			if err := g.Raise(); err != nil {
				t.Fatalf("Raise: %v", err)
			}
			if got := readFile(t, p); got != tt.wantRaised {
				t.Errorf("after Raise: %s, want %s", got, tt.wantRaised)
			}
			for range 2 { // Restore is idempotent
				if err := g.Restore(); err != nil {
					t.Fatalf("Restore: %v", err)
				}
				if got := readFile(t, p); got != tt.wantRestore {
					t.Errorf("after Restore: %s, want %s", got, tt.wantRestore)
				}
			}
			if note := g.Note(); !strings.Contains(note, tt.wantNote) {
				t.Errorf("Note = %q, want it to contain %q", note, tt.wantNote)
			}
		})
	}
}

func TestSockFlowGuardRaiseTwiceKeepsFirstValue(t *testing.T) {
	g, p := guardAt(t, "100", 32768, true)
	for range 2 {
		if err := g.Raise(); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Restore(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != "100" {
		t.Errorf("after Raise, Raise, Restore: %s, want the original 100", got)
	}
}
