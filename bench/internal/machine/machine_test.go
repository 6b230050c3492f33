package machine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCPUModel(t *testing.T) {
	tests := []struct {
		name, cpuinfo, want string
	}{
		{"first of several", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n\nprocessor\t: 1\nmodel name\t: Other\n", "Intel(R) Xeon(R) Processor"},
		{"missing", "processor\t: 0\n", "unknown (no model name in /proc/cpuinfo)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseCPUModel(strings.NewReader(tt.cpuinfo)); got != tt.want {
				t.Errorf("ParseCPUModel = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFileSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FileSHA256(p)
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("FileSHA256 = %s, want %s", got, want)
	}
	if _, err := FileSHA256(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("FileSHA256 of a missing file succeeded")
	}
}
