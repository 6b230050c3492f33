package delegate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

// script writes an executable shell script plugin into dir.
func script(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestAddConvertsOldResults(t *testing.T) {
	dir := t.TempDir()
	script(t, dir, "ipam", `cat >/dev/null; [ "$CNI_COMMAND" = ADD ] || exit 9
echo '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/24","gateway":"10.1.0.1"}]}'`)
	p := Plugins{Path: []string{"/nonexistent", dir}, Env: []string{"CNI_COMMAND=DEL", "PATH=/usr/bin:/bin"}}
	res, err := p.Add("ipam", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.IPs) != 1 || res.IPs[0].Address.String() != "10.1.0.5/24" || res.CNIVersion != "1.1.0" {
		t.Errorf("result = %+v", res)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	script(t, dir, "cnierr", `echo '{"cniVersion":"1.0.0","code":11,"msg":"busy"}'; exit 1`)
	script(t, dir, "crash", `echo oops >&2; exit 3`)
	script(t, dir, "stdin", `grep -q '"name":"n"' || exit 4`)
	os.WriteFile(filepath.Join(dir, "noexec"), []byte("x"), 0o644)
	p := Plugins{Path: []string{dir}, Env: []string{"PATH=/usr/bin:/bin"}}

	var te *types.Error
	if err := p.Del("cnierr", nil); !errors.As(err, &te) || te.Code != 11 || te.Msg != "busy" {
		t.Errorf("CNI error not passed through: %v", err)
	}
	if err := p.Del("crash", nil); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Errorf("stderr not in the error: %v", err)
	}
	if err := p.Check("stdin", []byte(`{"name":"n"}`)); err != nil {
		t.Errorf("config not on stdin: %v", err)
	}
	for _, name := range []string{"missing", "noexec", "../crash", ""} {
		if err := p.GC(name, nil); err == nil || !strings.Contains(err.Error(), "plugin") {
			t.Errorf("GC(%q) = %v, want a not-found error", name, err)
		}
	}
}

func TestIdentityChangesWithTheBinary(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	script(t, second, "ipam", "exit 0")
	p := Plugins{Path: []string{first, second}}
	before, err := p.Identity("ipam")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := p.Identity("ipam"); again != before {
		t.Fatalf("Identity changed without a change: %q then %q", before, again)
	}
	script(t, second, "ipam", "exit 0 # a new build")
	replaced, err := p.Identity("ipam")
	if err != nil || replaced == before {
		t.Errorf("Identity after replacing the binary = %q, %v; want other than %q", replaced, err, before)
	}
	script(t, first, "ipam", "exit 0 # a new build")
	shadowed, err := p.Identity("ipam")
	if err != nil || shadowed == replaced || !strings.HasPrefix(shadowed, filepath.Join(first, "ipam")+" ") {
		t.Errorf("Identity with a binary earlier in CNI_PATH = %q, %v", shadowed, err)
	}
	if _, err := p.Identity("absent"); err == nil {
		t.Error("Identity of a missing plugin succeeded")
	}
}
