package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	root := t.TempDir()
	sys := filepath.Join(root, "sys")
	if err := os.MkdirAll(filepath.Join(sys, "class", "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{[]string{"--version"}, 0, "netsteer version ", ""},
		{nil, 2, "", "usage:"},
		{[]string{"status"}, 2, "", "usage:"},
		{[]string{"inspect", "extra", "--sys", sys}, 2, "", "unexpected arguments"},
		{[]string{"inspect", "--sys", sys, "--cni-dir", root}, 0, "STALE RESERVATIONS", ""},
		{[]string{"inspect", "--json", "--sys", sys, "--cni-dir", root}, 0, `"staleReservations": []`, ""},
		{[]string{"inspect", "--sys", filepath.Join(root, "nope")}, 1, "", "listing network devices"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String(), tc.inStdout) || !strings.Contains(errOut.String(), tc.inStderr) {
			t.Errorf("netsteer %q = %d\nstdout %q\nstderr %q", tc.args, code, out.String(), errOut.String())
		}
	}
}
