package rps

import (
	"slices"
	"testing"
)

// FuzzParse checks that Parse and ParseKernel never panic, that accepted
// masks respect the CPU bound, and that String prints a mask both parsers
// read back unchanged. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("0-3,8", 16)
	f.Add("00000001,00000000", 64)
	f.Fuzz(func(t *testing.T, s string, ncpu int) {
		if m, err := ParseKernel(s); err == nil {
			if k, err := ParseKernel(m.String()); err != nil || k != m {
				t.Fatalf("ParseKernel(%q) = %s, but ParseKernel(%q) = %s, %v", s, m, m.String(), k, err)
			}
		}
		m, err := Parse(s, ncpu)
		if err != nil {
			if !m.IsZero() {
				t.Fatalf("Parse(%q, %d) returned %s with error %v", s, ncpu, m, err)
			}
			return
		}
		cpus := m.CPUs()
		if !slices.IsSorted(cpus) || (len(cpus) > 0 && (cpus[0] < 0 || cpus[len(cpus)-1] >= ncpu)) {
			t.Fatalf("Parse(%q, %d).CPUs() = %v, outside [0, %d) or unsorted", s, ncpu, cpus, ncpu)
		}
		if !m.Equal(MaskOf(cpus...)) {
			t.Fatalf("Parse(%q, %d) = %s, but MaskOf its CPUs = %s", s, ncpu, m, MaskOf(cpus...))
		}
		again, err := Parse(m.String(), ncpu)
		if err != nil || !again.Equal(m) {
			t.Fatalf("Parse(%q, %d) = %s, but Parse(%q) = %s, %v", s, ncpu, m, m.String(), again, err)
		}
		k, err := ParseKernel(m.String() + "\n")
		if err != nil || !k.Equal(m) {
			t.Fatalf("Parse(%q, %d) = %s, but ParseKernel of it = %s, %v", s, ncpu, m, k, err)
		}
	})
}
