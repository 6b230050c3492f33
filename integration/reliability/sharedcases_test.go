//go:build integration

package reliability

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/integration/nstest"
)

// sharedConf is a good config of each plugin. Nothing in these cases gets
// as far as using it: each is refused before any side effect.
var sharedConf = map[string]map[string]any{
	"vethbridge": {"cniVersion": "1.1.0", "name": "shared", "type": "vethbridge", "bridge": "nstbrs",
		"ipam": map[string]any{"type": "host-local", "subnet": "10.98.0.0/24"}},
	"ipvlan": {"cniVersion": "1.1.0", "name": "shared", "type": "ipvlan", "master": "nstmaster0",
		"ipam": map[string]any{"type": "host-local", "subnet": "10.98.1.0/24"}},
}

// TestBothPluginsAnswerTheSameCasesTheSameWay runs both built binaries
// through the situations the two plugins decide by the same policy and
// asserts the same code and the same message from both (issue 11).
func TestBothPluginsAnswerTheSameCasesTheSameWay(t *testing.T) {
	bin := nstest.BinDir(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "nst-fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nst-gone")
	for _, tc := range []struct {
		name    string
		command string
		env     map[string]string
		conf    map[string]any // merged into the good config; nil values delete
		code    int
		msg     string
	}{
		{"empty cniVersion", "ADD", nil, map[string]any{"cniVersion": ""}, 1, "incompatible CNI versions"},
		{"unknown cniVersion", "ADD", nil, map[string]any{"cniVersion": "9.9.9"}, 1, "incompatible CNI versions"},
		{"unknown key", "ADD", nil, map[string]any{"frobnicate": true}, 2, `unsupported config key "frobnicate"`},
		{"unknown per-pod keys, first in order", "ADD", nil, map[string]any{"runtimeConfig": map[string]any{"zz": 1, "bb": 2}}, 2, `"runtimeConfig.bb"`},
		// skel answers these before our code runs, the same way for both.
		{"bad name", "ADD", nil, map[string]any{"name": "bad name"}, 7, "invalid characters found in network name"},
		{"sysctl outside net", "ADD", nil, map[string]any{"sysctl": map[string]string{"kernel.hostname": "x"}}, 7, "kernel.hostname"},
		{"CNI_IFNAME invalid", "ADD", map[string]string{"CNI_IFNAME": "eth 0"}, nil, 4, `invalid CNI_IFNAME="eth 0"`},
		{"CNI_IFNAME invalid at DEL", "DEL", map[string]string{"CNI_IFNAME": "eth/0"}, nil, 4, `invalid CNI_IFNAME="eth/0"`},
		{"CNI_CONTAINERID invalid", "ADD", map[string]string{"CNI_CONTAINERID": "-x"}, nil, 4, "invalid characters in containerID"},
		{"CNI_ARGS malformed", "ADD", map[string]string{"CNI_ARGS": "garbage"}, nil, 4, "invalid CNI_ARGS"},
		{"CNI_NETNS empty", "ADD", map[string]string{"CNI_NETNS": ""}, nil, 4, "required env variables [CNI_NETNS] missing"},
		{"CNI_NETNS missing", "ADD", map[string]string{"CNI_NETNS": missing}, nil, 4, `invalid CNI_NETNS="` + missing + `": cannot open`},
		{"CNI_NETNS a FIFO", "ADD", map[string]string{"CNI_NETNS": fifo}, nil, 4, "not a network namespace"},
		{"CNI_NETNS our own", "ADD", map[string]string{"CNI_NETNS": "/proc/self/ns/net"}, nil, 4, "plugin's own"},
		{"CHECK with CNI_NETNS a FIFO", "CHECK", map[string]string{"CNI_NETNS": fifo}, nil, 4, "not a network namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]cniError{}
			for _, plugin := range []string{"vethbridge", "ipvlan"} {
				conf := maps.Clone(sharedConf[plugin])
				for k, v := range tc.conf {
					conf[k] = v
				}
				env := map[string]string{"CNI_COMMAND": tc.command, "CNI_CONTAINERID": "shared-1", "CNI_NETNS": missing,
					"CNI_IFNAME": "eth0", "CNI_PATH": bin, "PATH": os.Getenv("PATH")}
				maps.Copy(env, tc.env)
				got[plugin] = runBinary(t, filepath.Join(bin, plugin), env, mustJSON(conf))
			}
			v, i := got["vethbridge"], got["ipvlan"]
			t.Logf("| %s | %d %q | %d %q |", tc.name, v.Code, v.Msg, i.Code, i.Msg)
			for plugin, e := range got {
				if e.Code != tc.code || !strings.Contains(e.Msg, tc.msg) {
					t.Errorf("%s: code %d %q, want code %d containing %q", plugin, e.Code, e.Msg, tc.code, tc.msg)
				}
			}
			// Details may differ: skel lists each plugin's own versions there
			// (vethbridge also takes 0.2.0).
			if v.Code != i.Code || v.Msg != i.Msg {
				t.Errorf("the plugins answer differently:\nvethbridge: %+v\nipvlan:     %+v", v, i)
			}
		})
	}
}

// runBinary runs a plugin as a runtime would and returns the CNI error it
// printed; exiting 0 fails the test.
func runBinary(t *testing.T, path string, env map[string]string, stdin string) cniError {
	t.Helper()
	cmd := exec.Command(path)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err == nil {
		t.Fatalf("%s succeeded: %s", filepath.Base(path), out)
	}
	var e cniError
	if jerr := json.Unmarshal(out, &e); jerr != nil {
		t.Fatalf("%s: stdout is not CNI error JSON: %q (%v)", filepath.Base(path), out, err)
	}
	return e
}
