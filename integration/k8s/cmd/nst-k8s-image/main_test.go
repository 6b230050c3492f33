package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseJoinsContinuationsAndSkipsComments(t *testing.T) {
	got := parse("# c\nFROM golang:1.26 AS build\n\nRUN go build -o /out/a ./a \\\n && go build -o /out/b ./b\nENTRYPOINT [\"/a\"]\n")
	want := []instruction{
		{"FROM", "golang:1.26 AS build"},
		{"RUN", "go build -o /out/a ./a  && go build -o /out/b ./b"},
		{"ENTRYPOINT", `["/a"]`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse = %q, want %q", got, want)
	}
}

// The shipped Containerfile must use only what this builder understands,
// or the Kubernetes test would run something else than operators build.
func TestShippedContainerfileIsUnderstood(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "conf", "kubernetes", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"FROM": true, "WORKDIR": true, "COPY": true, "ENV": true, "RUN": true, "ENTRYPOINT": true}
	for _, in := range parse(string(data)) {
		if !known[in.op] {
			t.Errorf("Containerfile uses %s, which nst-k8s-image does not run", in.op)
		}
		if in.op == "RUN" {
			for _, step := range strings.Split(in.args, "&&") {
				if f := strings.Fields(step); len(f) < 2 || f[0] != "go" || f[1] != "build" {
					t.Errorf("RUN step %q is not a go build", step)
				}
			}
		}
	}
}

func TestRefusesUnknownInstructions(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "Containerfile")
	if err := os.WriteFile(cf, []byte("FROM scratch\nUSER 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(cf, dir, "x/y:z", filepath.Join(dir, "out.tar"), nil)
	if err == nil || !strings.Contains(err.Error(), "USER is not supported") {
		t.Errorf("run = %v, want USER refused", err)
	}
	if err := os.WriteFile(cf, []byte("FROM golang AS build\nRUN apt-get install x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(cf, dir, "x/y:z", filepath.Join(dir, "out.tar"), nil)
	if err == nil || !strings.Contains(err.Error(), "only `go build`") {
		t.Errorf("run = %v, want a non-go RUN refused", err)
	}
}
