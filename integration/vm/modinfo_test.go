package vm

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseModinfo(t *testing.T) {
	tests := []struct {
		name    string
		section string
		want    Modinfo
	}{
		{"ipvlan", "license=GPL\x00depends=\x00retpoline=Y\x00intree=Y\x00name=ipvlan\x00vermagic=6.1.0 SMP\x00", Modinfo{Name: "ipvlan"}},
		{"two deps with padding", "\x00\x00alias=rtnl-link-bridge\x00depends=stp,llc\x00name=bridge\x00", Modinfo{Name: "bridge", Depends: []string{"stp", "llc"}}},
		{"dashes normalized", "depends=nf-nat,,x_tables\x00name=xt-nat\x00", Modinfo{Name: "xt_nat", Depends: []string{"nf_nat", "x_tables"}}},
		{"no name field", "depends=a\x00", Modinfo{Depends: []string{"a"}}},
		{"empty section", "", Modinfo{}},
		{"value containing =", "parm=x:a=b\x00name=m\x00", Modinfo{Name: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseModinfo([]byte(tt.section)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseModinfo(%q) = %+v, want %+v", tt.section, got, tt.want)
			}
		})
	}
}

func TestReadModinfoRejectsNonELF(t *testing.T) {
	if _, err := ReadModinfo([]byte("not an elf")); err == nil {
		t.Error("ReadModinfo of garbage succeeded")
	}
}

func TestModuleName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kernel/net/8021q/8021q.ko", "8021q"},
		{"/x/xt_MASQUERADE.ko.xz", "xt_MASQUERADE"},
		{"nf-conntrack.ko.zst", "nf_conntrack"},
		{"veth.ko.gz", "veth"},
		{"br_netfilter", "br_netfilter"},
	}
	for _, tt := range tests {
		if got := ModuleName(tt.in); got != tt.want {
			t.Errorf("ModuleName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoadOrder(t *testing.T) {
	graph := map[string][]string{
		"bridge":         {"stp", "llc"},
		"stp":            {"llc"},
		"llc":            nil,
		"br_netfilter":   {"bridge"},
		"xt_masquerade":  {"nf_nat", "x_tables"},
		"nf_nat":         {"nf_conntrack"},
		"nf_conntrack":   {"nf_defrag_ipv4", "nf_defrag_ipv6"},
		"nf_defrag_ipv4": nil,
		"nf_defrag_ipv6": nil,
		"x_tables":       nil,
		"a":              {"b"},
		"b":              {"c"},
		"c":              {"a"},
	}
	deps := func(name string) ([]string, error) {
		d, ok := graph[name]
		if !ok {
			return nil, fmt.Errorf("module %s: not found", name)
		}
		return d, nil
	}
	tests := []struct {
		name    string
		wanted  []string
		want    []string
		wantErr string
	}{
		{"none", nil, nil, ""},
		{"leaf", []string{"llc"}, []string{"llc"}, ""},
		{"shared dependency once", []string{"br_netfilter", "bridge"}, []string{"llc", "stp", "bridge", "br_netfilter"}, ""},
		{"deep chain", []string{"xt-masquerade"}, []string{"nf_defrag_ipv4", "nf_defrag_ipv6", "nf_conntrack", "nf_nat", "x_tables", "xt_masquerade"}, ""},
		{"duplicates in wanted", []string{"llc", "llc"}, []string{"llc"}, ""},
		{"cycle", []string{"a"}, nil, "dependency cycle a -> b -> c -> a"},
		{"unknown", []string{"ipvlan"}, nil, "module ipvlan: not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadOrder(tt.wanted, deps)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadOrder(%v) error %v, want %q", tt.wanted, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadOrder(%v): %v", tt.wanted, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadOrder(%v) = %v, want %v", tt.wanted, got, tt.want)
			}
		})
	}
}

func TestLoadOrderWrapsDepsError(t *testing.T) {
	sentinel := errors.New("boom")
	_, err := LoadOrder([]string{"x"}, func(string) ([]string, error) { return nil, sentinel })
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v does not wrap the deps error", err)
	}
}
