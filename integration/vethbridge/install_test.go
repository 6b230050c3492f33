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
// that already holds another ipvlan: it is kept as a backup, the install
// says so, and a second install rewrites nothing.
func TestMakeInstallKeepsAForeignIPVLAN(t *testing.T) {
	repo := nstest.RepoRoot(t)
	dest := filepath.Join(t.TempDir(), "opt", "cni", "bin")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	foreign := []byte("#!/bin/sh\necho someone else's ipvlan\n")
	if err := os.WriteFile(filepath.Join(dest, "ipvlan"), foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	install := func() string {
		out, err := exec.Command("bash", filepath.Join(repo, "scripts", "install.sh"), dest).CombinedOutput()
		if err != nil {
			t.Fatalf("install.sh: %v\n%s", err, out)
		}
		return string(out)
	}
	out := install()
	if !strings.Contains(out, "not netsteer's; kept it as "+filepath.Join(dest, "ipvlan.netsteer-backup")) {
		t.Errorf("install did not say it kept the foreign ipvlan:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "ipvlan.netsteer-backup")); string(b) != string(foreign) {
		t.Errorf("backup holds %q, want the foreign binary", b)
	}
	for _, name := range []string{"ipvlan", "vethbridge"} {
		ours, _ := os.ReadFile(filepath.Join(repo, "bin", name))
		got, _ := os.ReadFile(filepath.Join(dest, name))
		if len(ours) == 0 || string(got) != string(ours) {
			t.Errorf("%s in %s is not bin/%s", name, dest, name)
		}
	}
	if again := install(); strings.Contains(again, "installed") || strings.Contains(again, "kept") {
		t.Errorf("second install changed something:\n%s", again)
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 3 {
		t.Errorf("%s holds %d entries, want ipvlan, its backup and vethbridge (no temp files)", dest, len(entries))
	}
}
