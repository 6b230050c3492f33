package main

import "testing"

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
