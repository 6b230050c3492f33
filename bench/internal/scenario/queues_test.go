package scenario

import (
	"strings"
	"testing"
)

func TestParseQueueStates(t *testing.T) {
	qs, err := ParseQueueStates("veth1 3 4096\nveth2 00000000,00000000 0\n")
	if err != nil {
		t.Fatalf("ParseQueueStates: %v", err)
	}
	want := []QueueState{{"veth1", "3", 4096}, {"veth2", "00000000,00000000", 0}}
	if len(qs) != len(want) {
		t.Fatalf("got %v, want %v", qs, want)
	}
	for i := range want {
		if qs[i] != want[i] {
			t.Errorf("state %d = %+v, want %+v", i, qs[i], want[i])
		}
	}
	if !qs[0].RPSOn() || qs[1].RPSOn() {
		t.Errorf("RPSOn = %v, %v; want true, false", qs[0].RPSOn(), qs[1].RPSOn())
	}
	if got := FormatQueueStates(qs); got != "veth1 rps_cpus=3 rps_flow_cnt=4096; veth2 rps_cpus=00000000,00000000 rps_flow_cnt=0" {
		t.Errorf("FormatQueueStates = %q", got)
	}
}

func TestParseQueueStatesErrors(t *testing.T) {
	for _, text := range []string{"veth1 3\n", "veth1 3 many\n"} {
		if _, err := ParseQueueStates(text); err == nil {
			t.Errorf("ParseQueueStates(%q) succeeded, want an error", text)
		}
	}
}

func TestSteeringWantCheck(t *testing.T) {
	rfs := steeringWant{rps: true, flowCount: 4096}
	tests := []struct {
		name    string
		want    steeringWant
		qs      []QueueState
		wantErr string // substring; empty means no error
	}{
		{"rfs applied", rfs, []QueueState{{"a", "3", 4096}, {"b", "3", 4096}}, ""},
		{"off applied", steeringWant{}, []QueueState{{"a", "0", 0}, {"b", "00000000", 0}}, ""},
		{"rps missing on one port", rfs, []QueueState{{"a", "3", 4096}, {"b", "0", 4096}}, "b rps_cpus=0"},
		{"flow count missing", rfs, []QueueState{{"a", "3", 0}, {"b", "3", 4096}}, "a rps_flow_cnt=0, want 4096"},
		{"unexpected rps", steeringWant{}, []QueueState{{"a", "1", 0}, {"b", "0", 0}}, "a rps_cpus=1"},
		{"wrong port count", rfs, []QueueState{{"a", "3", 4096}}, "found 1 bridge ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.want.check(tt.qs)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("check = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("check = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
