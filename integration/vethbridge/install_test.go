//go:build integration

package vethbridge

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/nstest"
)

// TestMakeInstallKeepsAForeignIPVLAN is `make install` into a CNI bin dir
// that already holds another ipvlan and a command dir that already holds
// another netsteer: each is kept as a backup, the install says so, the
// netsteer command lands in the command dir, and a second install
// rewrites nothing.
func TestMakeInstallKeepsAForeignIPVLAN(t *testing.T) {
	repo := nstest.RepoRoot(t)
	root := t.TempDir()
	dest, cmdDir := filepath.Join(root, "opt", "cni", "bin"), filepath.Join(root, "usr", "local", "bin")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	foreign := []byte("#!/bin/sh\necho someone else's ipvlan\n")
	if err := os.WriteFile(filepath.Join(dest, "ipvlan"), foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cmdDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cmdDir, "netsteer"), foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	install := func() string {
		out, err := exec.Command("bash", filepath.Join(repo, "scripts", "install.sh"), dest, cmdDir).CombinedOutput()
		if err != nil {
			t.Fatalf("install.sh: %v\n%s", err, out)
		}
		return string(out)
	}
	out := install()
	if !strings.Contains(out, "not netsteer's; kept it as "+filepath.Join(dest, "ipvlan.netsteer-backup")) {
		t.Errorf("install did not say it kept the foreign ipvlan:\n%s", out)
	}
	if !strings.Contains(out, "not netsteer's; kept it as "+filepath.Join(cmdDir, "netsteer.netsteer-backup")) {
		t.Errorf("install did not say it kept the foreign netsteer:\n%s", out)
	}
	for _, backup := range []string{filepath.Join(dest, "ipvlan.netsteer-backup"), filepath.Join(cmdDir, "netsteer.netsteer-backup")} {
		if b, _ := os.ReadFile(backup); string(b) != string(foreign) {
			t.Errorf("%s holds %q, want the foreign binary", backup, b)
		}
	}
	for _, f := range []struct{ name, dir string }{{"ipvlan", dest}, {"vethbridge", dest}, {"netsteer", cmdDir}} {
		ours, _ := os.ReadFile(filepath.Join(repo, "bin", f.name))
		got, _ := os.ReadFile(filepath.Join(f.dir, f.name))
		if len(ours) == 0 || string(got) != string(ours) {
			t.Errorf("%s in %s is not bin/%s", f.name, f.dir, f.name)
		}
	}
	if again := install(); strings.Contains(again, "installed") || strings.Contains(again, "kept") {
		t.Errorf("second install changed something:\n%s", again)
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 3 {
		t.Errorf("%s holds %d entries, want ipvlan, its backup and vethbridge (no temp files)", dest, len(entries))
	}
	if entries, _ := os.ReadDir(cmdDir); len(entries) != 2 {
		t.Errorf("%s holds %d entries, want netsteer and its backup (no temp files)", cmdDir, len(entries))
	}
}
