package cniexec

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
)

func TestStdin(t *testing.T) {
	n := Network{
		Name: "nst-bench", CNIVersion: "1.0.0", Type: "vethbridge", Bridge: "nstbr0",
		Subnet: "10.88.0.0/16", DataDir: "/tmp/ipam",
		Extra: map[string]any{"rps": map[string]any{"cpus": "all"}},
	}
	tests := []struct {
		name       string
		prevResult json.RawMessage
		wantPrev   bool
	}{
		{"add", nil, false},
		{"del with prevResult", json.RawMessage(`{"cniVersion":"1.0.0","ips":[]}`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := n.Stdin(tt.prevResult)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Name       string          `json:"name"`
				CNIVersion string          `json:"cniVersion"`
				Type       string          `json:"type"`
				Bridge     string          `json:"bridge"`
				IsGateway  bool            `json:"isGateway"`
				IPMasq     bool            `json:"ipMasq"`
				RPS        map[string]any  `json:"rps"`
				PrevResult json.RawMessage `json:"prevResult"`
				IPAM       struct {
					Type, Subnet, DataDir string
				} `json:"ipam"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("decoding %s: %v", b, err)
			}
			if got.Name != "nst-bench" || got.CNIVersion != "1.0.0" || got.Type != "vethbridge" ||
				got.Bridge != "nstbr0" || !got.IsGateway || !got.IPMasq {
				t.Errorf("stdin = %s: wrong top-level keys", b)
			}
			if got.IPAM.Type != "host-local" || got.IPAM.Subnet != "10.88.0.0/16" || got.IPAM.DataDir != "/tmp/ipam" {
				t.Errorf("stdin ipam = %+v", got.IPAM)
			}
			if got.RPS["cpus"] != "all" {
				t.Errorf("stdin rps = %v, want the extra key", got.RPS)
			}
			if (len(got.PrevResult) > 0) != tt.wantPrev {
				t.Errorf("prevResult present = %v, want %v", len(got.PrevResult) > 0, tt.wantPrev)
			}
		})
	}
}

func TestConflistSameShapeForBothTypes(t *testing.T) {
	a := Network{Name: "n", CNIVersion: "1.0.0", Type: "vethbridge", Bridge: "nstbr0", Subnet: "10.88.0.0/16", DataDir: "/d"}
	b := a
	b.Type = "bridge"
	ca, err := a.Conflist()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Conflist()
	if err != nil {
		t.Fatal(err)
	}
	var ma, mb map[string]any
	if err := json.Unmarshal(ca, &ma); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cb, &mb); err != nil {
		t.Fatal(err)
	}
	ma["plugins"].([]any)[0].(map[string]any)["type"] = "x"
	mb["plugins"].([]any)[0].(map[string]any)["type"] = "x"
	ja, _ := json.Marshal(ma)
	jb, _ := json.Marshal(mb)
	if string(ja) != string(jb) {
		t.Errorf("conflists differ beyond type:\n%s\n%s", ca, cb)
	}
}

func TestResultIPs(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    []netip.Prefix
		wantErr bool
	}{
		{
			name: "one address",
			out:  `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"interface":0,"address":"10.88.0.5/16","gateway":"10.88.0.1"}]}`,
			want: []netip.Prefix{netip.MustParsePrefix("10.88.0.5/16")},
		},
		{name: "no ips", out: `{"cniVersion":"1.0.0"}`},
		{name: "bad address", out: `{"ips":[{"address":"10.88.0.5"}]}`, wantErr: true},
		{name: "not json", out: `oops`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResultIPs([]byte(tt.out))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ResultIPs error = %v, wantErr %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ResultIPs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		out  string
		want *PluginError
	}{
		{`{"code":7,"msg":"invalid config","details":"bridge"}`, &PluginError{Code: 7, Msg: "invalid config", Details: "bridge"}},
		{`{"cniVersion":"1.0.0","ips":[]}`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		got := ParseError([]byte(tt.out))
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("ParseError(%q) = %v, want %v", tt.out, got, tt.want)
		}
	}
}

func TestDuplicates(t *testing.T) {
	p := netip.MustParsePrefix
	got := Duplicates([][]netip.Prefix{
		{p("10.88.0.2/16")},
		{p("10.88.0.3/16")},
		{p("10.88.0.2/16")},
		{p("10.88.0.2/16")},
		{p("10.88.0.3/24")}, // same address, other prefix length: still a duplicate
	})
	want := []netip.Addr{netip.MustParseAddr("10.88.0.2"), netip.MustParseAddr("10.88.0.3")}
	if !slices.Equal(got, want) {
		t.Errorf("Duplicates = %v, want %v", got, want)
	}
}
