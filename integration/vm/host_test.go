package vm

import (
	"errors"
	"strings"
	"testing"
)

func TestVerdict(t *testing.T) {
	console := func(lines ...string) *Console {
		c := NewConsole("n")
		for _, l := range lines {
			c.Line(l)
		}
		return c
	}
	cfg := HostConfig{Timeout: DefaultTimeout}
	tests := []struct {
		name     string
		out      Outcome
		wantCode int
		wantMsg  string
	}{
		{"pass", Outcome{Console: console(StartLine("n"), "PASS", ExitLine("n", 0))}, 0, ""},
		{"test exit code kept", Outcome{Console: console(StartLine("n"), ExitLine("n", 3))}, 3, ""},
		{"skip fails", Outcome{Console: console(StartLine("n"), "--- SKIP: TestX (0.00s)", ExitLine("n", 0))}, 1, "skip inside the VM counts as failure"},
		{"timeout", Outcome{Console: console(StartLine("n")), TimedOut: true}, 1, "timed out after 10m0s"},
		{"interrupted", Outcome{Console: console(StartLine("n")), Interrupted: true}, 1, "interrupted by a signal"},
		{"guest died mid-test", Outcome{Console: console(StartLine("n"), "=== RUN   TestX"), QEMUErr: errors.New("exit status 1")}, 1, "stopped before the test exited"},
		{"guest never started", Outcome{Console: console("Kernel panic - not syncing: no init")}, 1, "never started the test (qemu: <nil>); its console:\nKernel panic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msg strings.Builder
			code := verdict(tt.out, cfg, &msg)
			if code != tt.wantCode {
				t.Errorf("code %d, want %d", code, tt.wantCode)
			}
			if tt.wantMsg == "" && msg.Len() > 0 || !strings.Contains(msg.String(), tt.wantMsg) {
				t.Errorf("message %q, want %q", msg.String(), tt.wantMsg)
			}
		})
	}
}
