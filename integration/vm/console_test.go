package vm

import (
	"reflect"
	"testing"
)

func TestConsole(t *testing.T) {
	const nonce = "n0nce"
	tests := []struct {
		name        string
		lines       []string
		wantForward []string
		wantCode    int
		wantExited  bool
		wantSkipped bool
		wantBoot    []string
	}{
		{
			name:        "pass",
			lines:       []string{"[ 0.1] noise", "NETSTEER-VM-START n0nce\r", "=== RUN   TestX\r", "PASS\r", "NETSTEER-VM-EXIT n0nce 0\r", "[ 2.0] reboot: Power down"},
			wantForward: []string{"=== RUN   TestX", "PASS"},
			wantExited:  true,
			wantBoot:    []string{"[ 0.1] noise"},
		},
		{
			name:        "failure code and text before marker",
			lines:       []string{"NETSTEER-VM-START n0nce", "FAIL", "exit status 1NETSTEER-VM-EXIT n0nce 1"},
			wantForward: []string{"FAIL", "exit status 1"},
			wantCode:    1,
			wantExited:  true,
		},
		{
			name:        "wrong nonce is test output",
			lines:       []string{"NETSTEER-VM-START n0nce", "NETSTEER-VM-EXIT other 0", "NETSTEER-VM-EXIT n0nce 3"},
			wantForward: []string{"NETSTEER-VM-EXIT other 0"},
			wantCode:    3,
			wantExited:  true,
		},
		{
			name:        "skip noted",
			lines:       []string{"NETSTEER-VM-START n0nce", "    --- SKIP: TestY (0.00s)", "NETSTEER-VM-EXIT n0nce 0"},
			wantForward: []string{"    --- SKIP: TestY (0.00s)"},
			wantExited:  true,
			wantSkipped: true,
		},
		{
			name:     "skip before start is boot noise",
			lines:    []string{"--- SKIP", "Kernel panic - not syncing"},
			wantBoot: []string{"--- SKIP", "Kernel panic - not syncing"},
		},
		{
			name:        "never exits",
			lines:       []string{"NETSTEER-VM-START n0nce", "=== RUN   TestHang"},
			wantForward: []string{"=== RUN   TestHang"},
		},
		{
			name:        "marker with bad code is output",
			lines:       []string{"NETSTEER-VM-START n0nce", "NETSTEER-VM-EXIT n0nce x"},
			wantForward: []string{"NETSTEER-VM-EXIT n0nce x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConsole(nonce)
			var forwarded []string
			for _, l := range tt.lines {
				if f, ok := c.Line(l); ok {
					forwarded = append(forwarded, f)
				}
			}
			if !reflect.DeepEqual(forwarded, tt.wantForward) {
				t.Errorf("forwarded %q, want %q", forwarded, tt.wantForward)
			}
			code, exited := c.Result()
			if code != tt.wantCode || exited != tt.wantExited {
				t.Errorf("Result() = %d, %v; want %d, %v", code, exited, tt.wantCode, tt.wantExited)
			}
			if c.Skipped() != tt.wantSkipped {
				t.Errorf("Skipped() = %v, want %v", c.Skipped(), tt.wantSkipped)
			}
			if !reflect.DeepEqual(c.BootLog(), tt.wantBoot) {
				t.Errorf("BootLog() = %q, want %q", c.BootLog(), tt.wantBoot)
			}
		})
	}
}

func TestMarkerLinesRoundTrip(t *testing.T) {
	c := NewConsole("abc")
	c.Line(StartLine("abc"))
	c.Line(ExitLine("abc", 42))
	if code, exited := c.Result(); code != 42 || !exited {
		t.Errorf("Result() = %d, %v; want 42, true", code, exited)
	}
}

func TestConsoleStarted(t *testing.T) {
	c := NewConsole("abc")
	c.Line("[    1.0] boot noise")
	if c.Started() {
		t.Error("Started() before the start marker")
	}
	c.Line("junk" + StartLine("abc"))
	if !c.Started() {
		t.Error("!Started() after the start marker")
	}
}
