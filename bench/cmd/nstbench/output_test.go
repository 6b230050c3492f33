package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want string
	}{
		{"relative paths", []string{"/repo/bin/nstbench", "-ours", "/repo/bin/vethbridge", "-md", "/tmp/x.md"},
			"bin/nstbench -ours bin/vethbridge -md /tmp/x.md"},
		{"quoting", []string{"/repo/bin/nstbench", "-command", "make bench", "-only", "", "-x", "it's"},
			`bin/nstbench -command 'make bench' -only '' -x 'it'\''s'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandLine(tt.argv, "/repo"); got != tt.want {
				t.Errorf("commandLine = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseFlagsRejectsArguments(t *testing.T) {
	if _, err := parseFlags([]string{"extra"}); err == nil {
		t.Error("parseFlags accepted a positional argument")
	}
	if _, err := parseFlags([]string{"-only", "datapath,bogus"}); err == nil {
		t.Error("parseFlags accepted an unknown scenario in -only")
	}
	o, err := parseFlags([]string{"-quick", "-only", "datapath"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.quick || o.only != "datapath" || o.ours != "bin/vethbridge" || o.upstream != "bin/bridge" {
		t.Errorf("parseFlags = %+v", o)
	}
}

func TestKeepK8sSection(t *testing.T) {
	const section = k8sMarker + "\n\n## Kubernetes: 30 pods at once\n\n| a | b |\n"
	tests := []struct {
		name, generated, old, want string
	}{
		{"no old file", "# new\n", "", "# new\n"},
		{"old without the section", "# new\n", "# old\n\nstale\n", "# new\n"},
		{"section kept, old plugin figures dropped", "# new\n\nfresh\n", "# old\n\nstale\n\n" + section,
			"# new\n\nfresh\n\n" + section},
		{"file that is only the section", "# new\n", section, "# new\n\n" + section},
		{"marker quoted inside a line is not a section", "# new\n", "# old\nsee " + k8sMarker + " here\n", "# new\n"},
		{"marker without a trailing newline at the end is not a section", "# new\n", "# old\n" + k8sMarker, "# new\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keepK8sSection(tt.generated, tt.old); got != tt.want {
				t.Errorf("keepK8sSection:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// The script that writes the Kubernetes section must start it with the
// line keepK8sSection looks for.
func TestK8sMarkerMatchesTheScript(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "scripts", "k8s-bench-md.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "part='"+k8sMarker+"'") {
		t.Errorf("scripts/k8s-bench-md.sh does not write the marker %q", k8sMarker)
	}
}
