package rps

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// cpuRange returns lo..hi inclusive.
func cpuRange(lo, hi int) []int {
	var cpus []int
	for c := lo; c <= hi; c++ {
		cpus = append(cpus, c)
	}
	return cpus
}

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		ncpu   int
		cpus   []int
		kernel string // want String()
	}{
		{in: "all", ncpu: 2, cpus: []int{0, 1}, kernel: "3"},
		{in: " all\n", ncpu: 4, cpus: []int{0, 1, 2, 3}, kernel: "f"},
		{in: "all", ncpu: 40, cpus: cpuRange(0, 39), kernel: "ff,ffffffff"},
		{in: "all", ncpu: 64, cpus: cpuRange(0, 63), kernel: "ffffffff,ffffffff"},
		// Lists.
		{in: "0-3,8", ncpu: 12, cpus: []int{0, 1, 2, 3, 8}, kernel: "10f"},
		{in: "0-3", ncpu: 4, cpus: []int{0, 1, 2, 3}, kernel: "f"},
		{in: "8-8", ncpu: 9, cpus: []int{8}, kernel: "100"},
		{in: "1,3", ncpu: 4, cpus: []int{1, 3}, kernel: "a"},
		{in: "1, 3 ,5", ncpu: 8, cpus: []int{1, 3, 5}, kernel: "2a"},
		{in: "0 - 1", ncpu: 2, cpus: []int{0, 1}, kernel: "3"},
		{in: "3,1,1,0-1", ncpu: 4, cpus: []int{0, 1, 3}, kernel: "b"},
		{in: "32", ncpu: 40, cpus: []int{1, 4, 5}, kernel: "32"}, // a single number is hex
		{in: "0-1,32-33", ncpu: 34, cpus: []int{0, 1, 32, 33}, kernel: "3,00000003"},
		{in: "63", ncpu: 64, cpus: []int{0, 1, 5, 6}, kernel: "63"},
		{in: "63-63", ncpu: 64, cpus: []int{63}, kernel: "80000000,00000000"},
		{in: "0,1000", ncpu: 1001, cpus: []int{0, 1000}, kernel: "100," + strings.Repeat("00000000,", 30) + "00000001"},
		// Hex masks.
		{in: "fff", ncpu: 12, cpus: cpuRange(0, 11), kernel: "fff"},
		{in: "0f", ncpu: 4, cpus: []int{0, 1, 2, 3}, kernel: "f"},
		{in: "F", ncpu: 4, cpus: []int{0, 1, 2, 3}, kernel: "f"},
		{in: "0x3", ncpu: 2, cpus: []int{0, 1}, kernel: "3"},
		{in: "0X3", ncpu: 2, cpus: []int{0, 1}, kernel: "3"},
		{in: "3", ncpu: 2, cpus: []int{0, 1}, kernel: "3"},
		{in: "8", ncpu: 4, cpus: []int{3}, kernel: "8"},
		{in: "0", ncpu: 1, cpus: nil, kernel: "0"},
		{in: "00000000", ncpu: 1, cpus: nil, kernel: "0"},
		{in: "00000000,00000000", ncpu: 64, cpus: nil, kernel: "0"},
		{in: "00000001,00000000", ncpu: 33, cpus: []int{32}, kernel: "1,00000000"},
		{in: "00000000,0000000f", ncpu: 4, cpus: []int{0, 1, 2, 3}, kernel: "f"},
		{in: "ff,00000000", ncpu: 40, cpus: cpuRange(32, 39), kernel: "ff,00000000"},
		{in: "1,00000000", ncpu: 33, cpus: []int{32}, kernel: "1,00000000"},
		{in: "1,00000000,00000001", ncpu: 65, cpus: []int{0, 64}, kernel: "1,00000000,00000001"},
		{in: "deadbeef", ncpu: 32, cpus: []int{0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 15, 16, 18, 19, 21, 23, 25, 26, 27, 28, 30, 31}, kernel: "deadbeef"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := Parse(tt.in, tt.ncpu)
			if err != nil {
				t.Fatalf("Parse(%q, %d): %v", tt.in, tt.ncpu, err)
			}
			if got := m.CPUs(); !slices.Equal(got, tt.cpus) {
				t.Errorf("CPUs() = %v, want %v", got, tt.cpus)
			}
			if got := m.String(); got != tt.kernel {
				t.Errorf("String() = %q, want %q", got, tt.kernel)
			}
			if want := MaskOf(tt.cpus...); !m.Equal(want) {
				t.Errorf("Parse(%q) = %s, not Equal to MaskOf(%v) = %s", tt.in, m, tt.cpus, want)
			}
			if m.IsZero() != (len(tt.cpus) == 0) {
				t.Errorf("IsZero() = %v with CPUs %v", m.IsZero(), tt.cpus)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		ncpu   int
		form   string
		reason string // substring
	}{
		{in: "", ncpu: 4, reason: "empty"},
		{in: "  ", ncpu: 4, reason: "empty"},
		{in: "all", ncpu: 0, reason: "outside [1, 16384]"},
		{in: "f", ncpu: -1, reason: "outside"},
		{in: "f", ncpu: MaxCPUs + 1, reason: "outside"},
		// Bound by ncpu.
		{in: "4", ncpu: 2, form: "hex mask", reason: "names CPU 2, but only CPUs 0-1 are possible"},
		{in: "0-2", ncpu: 2, form: "CPU list", reason: "names CPU 2"},
		{in: "0,2", ncpu: 2, form: "CPU list", reason: "names CPU 2"},
		{in: "1,00000000", ncpu: 32, form: "hex mask", reason: "names CPU 32, but only CPUs 0-31 are possible"},
		{in: "ffffffff,ffffffff", ncpu: 63, form: "hex mask", reason: "names CPU 63"},
		// Lists.
		{in: "3-1", ncpu: 4, form: "CPU list", reason: "runs backwards"},
		{in: "0-", ncpu: 4, form: "CPU list", reason: `"" is not a CPU number`},
		{in: "-1", ncpu: 4, form: "CPU list", reason: `"" is not a CPU number`},
		{in: "0-1-2", ncpu: 4, form: "CPU list", reason: `"1-2" is not a CPU number`},
		{in: "0-3,", ncpu: 4, form: "CPU list", reason: "empty item"},
		{in: "0-3,,5", ncpu: 8, form: "CPU list", reason: "empty item"},
		{in: "0-a", ncpu: 16, form: "CPU list", reason: `"a" is not a CPU number`},
		{in: "0-10000", ncpu: 16, form: "CPU list", reason: `"10000" is not a CPU number of 1 to 4 decimal digits`},
		{in: "1-2,00000000", ncpu: 16, form: "CPU list", reason: `"00000000" is not a CPU number`},
		{in: "+1-2", ncpu: 16, form: "CPU list", reason: `"+1" is not a CPU number`},
		// Hex masks.
		{in: "xyz", ncpu: 4, form: "hex mask", reason: "not hexadecimal"},
		{in: "0x", ncpu: 4, form: "hex mask", reason: "1 to 8 hex digits"},
		{in: "123456789", ncpu: 64, form: "hex mask", reason: "1 to 8 hex digits"},
		{in: "0x1,00000000", ncpu: 64, form: "hex mask", reason: "0x prefix is only allowed on a single group"},
		{in: "1,0000000g", ncpu: 64, form: "hex mask", reason: "not hexadecimal"},
		{in: "1,", ncpu: 64, form: "hex mask", reason: "1 to 8 hex digits"},
		{in: ",1", ncpu: 64, form: "hex mask", reason: "1 to 8 hex digits"},
		{in: "1, 00000000", ncpu: 64, form: "hex mask", reason: "1 to 8 hex digits"},
		{in: "f f", ncpu: 64, form: "hex mask", reason: "not hexadecimal"},
		{in: "+f", ncpu: 64, form: "hex mask", reason: "not hexadecimal"},
		{in: strings.Repeat("00000000,", MaxCPUs/32) + "1", ncpu: 64, form: "hex mask", reason: "exceed the limit"},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 30 {
			name = name[:30] + "..."
		}
		t.Run(name, func(t *testing.T) {
			m, err := Parse(tt.in, tt.ncpu)
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q, %d) = %s, %v; want *ParseError", tt.in, tt.ncpu, m, err)
			}
			if perr.Input != tt.in {
				t.Errorf("ParseError.Input = %q, want the input %q", perr.Input, tt.in)
			}
			if perr.Form != tt.form {
				t.Errorf("ParseError.Form = %q, want %q", perr.Form, tt.form)
			}
			if !strings.Contains(perr.Reason, tt.reason) {
				t.Errorf("ParseError.Reason = %q, want it to mention %q", perr.Reason, tt.reason)
			}
			if !m.IsZero() {
				t.Errorf("rejected input returned non-zero mask %s", m)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse("0-9", 4)
	want := `cpu mask "0-9" (read as CPU list): names CPU 9, but only CPUs 0-3 are possible`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestParseKernel(t *testing.T) {
	tests := []struct {
		in   string
		cpus []int
	}{
		{in: "3\n", cpus: []int{0, 1}},
		{in: "0\n", cpus: nil},
		{in: "00000000,0000000f\n", cpus: []int{0, 1, 2, 3}},
		{in: "00000000,00000000,00000000,80000000", cpus: []int{31}},
		{in: "ff,ffffffff\n", cpus: cpuRange(0, 39)},
		// No ncpu bound: the kernel may print masks wider than a caller's guess.
		{in: "80000000,00000000,00000000\n", cpus: []int{95}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.in), func(t *testing.T) {
			m, err := ParseKernel(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.CPUs(); !slices.Equal(got, tt.cpus) {
				t.Errorf("ParseKernel(%q).CPUs() = %v, want %v", tt.in, got, tt.cpus)
			}
		})
	}
	for _, bad := range []string{"", "\n", "0x3", "0-3", "all", "g", "123456789", "1,,2"} {
		t.Run("reject/"+bad, func(t *testing.T) {
			m, err := ParseKernel(bad)
			var perr *ParseError
			if !errors.As(err, &perr) || perr.Form != "kernel hex mask" || perr.Input != bad {
				t.Errorf("ParseKernel(%q) = %s, %v; want a kernel hex mask *ParseError naming the input", bad, m, err)
			}
		})
	}
}

func TestStringRoundTrip(t *testing.T) {
	masks := []Mask{
		{},
		MaskOf(0),
		MaskOf(31),
		MaskOf(32),
		MaskOf(0, 63),
		MaskOf(64),
		MaskOf(cpuRange(0, 127)...),
		MaskOf(5, 40, 100, 1000),
		MaskOf(MaxCPUs - 1),
	}
	for _, m := range masks {
		t.Run(m.String(), func(t *testing.T) {
			k, err := ParseKernel(m.String() + "\n")
			if err != nil || k != m {
				t.Errorf("ParseKernel(%q) = %s, %v; want %s", m.String(), k, err, m)
			}
			p, err := Parse(m.String(), MaxCPUs)
			if err != nil || !p.Equal(m) {
				t.Errorf("Parse(%q) = %s, %v; want %s", m.String(), p, err, m)
			}
		})
	}
}

func TestEqualIgnoresLeadingZeroGroups(t *testing.T) {
	short, err := ParseKernel("f")
	if err != nil {
		t.Fatal(err)
	}
	long, err := ParseKernel("00000000,00000000,0000000f")
	if err != nil {
		t.Fatal(err)
	}
	if !short.Equal(long) || short != long {
		t.Errorf("%s and %s hold the same CPUs but are not equal", short, long)
	}
	if short.Equal(MaskOf(0, 1, 2)) {
		t.Errorf("%s Equal %s", short, MaskOf(0, 1, 2))
	}
	if !(Mask{}).Equal(MaskOf()) || !MaskOf().IsZero() {
		t.Errorf("empty masks differ")
	}
}

func TestMaskOfPanics(t *testing.T) {
	for _, cpu := range []int{-1, MaxCPUs} {
		t.Run("", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("MaskOf(%d) did not panic", cpu)
				}
			}()
			MaskOf(cpu)
		})
	}
}
