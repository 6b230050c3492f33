package counters

import "testing"

const sample = `TcpExt: SyncookiesSent TCPSACKReneging TCPSACKReorder
TcpExt: 0 1 42
IpExt: InNoRoutes
IpExt: 3
Tcp: RtoAlgorithm RetransSegs
Tcp: 1 -7
`

func TestParse(t *testing.T) {
	s, err := Parse(sample)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := map[string]int64{
		"TcpExt.SyncookiesSent":  0,
		"TcpExt.TCPSACKReneging": 1,
		"TcpExt.TCPSACKReorder":  42,
		"IpExt.InNoRoutes":       3,
		"Tcp.RtoAlgorithm":       1,
		"Tcp.RetransSegs":        -7,
	}
	if len(s) != len(want) {
		t.Errorf("got %d counters, want %d: %v", len(s), len(want), s)
	}
	for k, v := range want {
		if got, ok := s[k]; !ok || got != v {
			t.Errorf("%s = %d (present %v), want %d", k, got, ok, v)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"count mismatch", "TcpExt: A B\nTcpExt: 1\n"},
		{"prefix mismatch", "TcpExt: A\nIpExt: 1\n"},
		{"not a number", "TcpExt: A\nTcpExt: x\n"},
		{"header without values", "TcpExt: A\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.text); err == nil {
				t.Errorf("Parse(%q) succeeded, want an error", tt.text)
			}
		})
	}
}

func TestDelta(t *testing.T) {
	before := Snapshot{"TcpExt.TCPSACKReorder": 40}
	after := Snapshot{"TcpExt.TCPSACKReorder": 45}
	if d, err := Delta(before, after, "TcpExt.TCPSACKReorder"); err != nil || d != 5 {
		t.Errorf("Delta = %d, %v; want 5, nil", d, err)
	}
	if _, err := Delta(before, after, "TcpExt.Missing"); err == nil {
		t.Error("Delta of a missing counter succeeded")
	}
}
