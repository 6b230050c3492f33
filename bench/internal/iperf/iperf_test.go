package iperf

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		report  string
		want    Result
		wantErr bool
	}{
		{
			name:   "tcp client report",
			report: `{"start":{},"intervals":[],"end":{"sum_sent":{"bytes":10,"bits_per_second":2.5e10,"retransmits":5812},"sum_received":{"bits_per_second":2.4e10}}}`,
			want:   Result{ReceivedBitsPerSecond: 2.4e10, Retransmits: 5812},
		},
		{name: "zero retransmits", report: `{"end":{"sum_sent":{"retransmits":0},"sum_received":{"bits_per_second":1}}}`, want: Result{ReceivedBitsPerSecond: 1}},
		{name: "error field", report: `{"error":"unable to connect to server"}`, wantErr: true},
		{name: "udp report lacks fields", report: `{"end":{"sum":{"bits_per_second":1}}}`, wantErr: true},
		{name: "garbage", report: `iperf3: error`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.report))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse error = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}
