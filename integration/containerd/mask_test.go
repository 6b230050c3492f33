//go:build e2e

package containerd

import (
	"slices"
	"testing"
)

// The e2e assertions on rps_cpus are only as good as this decoder.
func TestMaskCPUs(t *testing.T) {
	tests := []struct {
		mask    string
		want    []int
		wantErr bool
	}{
		{"3", []int{0, 1}, false},
		{"00000003", []int{0, 1}, false},
		{"0", nil, false},
		{"1,00000000", []int{32}, false},
		{"80000000,00000001", []int{0, 63}, false},
		{"zz", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.mask, func(t *testing.T) {
			got, err := maskCPUs(tt.mask)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Fatalf("maskCPUs(%q) = %v, %v; want %v (error %v)", tt.mask, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
