//go:build vm

package ipvlan

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"

	"github.com/netsteer/netsteer/integration/nstest"
)

// The reliability tests run bin/ipvlan directly, not through libcni, when
// they need the plugin's PID (to kill it) or an environment libcni would
// not send (no prevResult, an old one, a CNI_PATH without IPAM).

// invocation is the CNI environment of one direct run; CNI_IFNAME is eth0.
type invocation struct {
	command, id, netns string
	// cniPath replaces CNI_PATH (the node's bin dir) when set.
	cniPath string
}

func (n *node) environ(inv invocation) []string {
	cniPath := inv.cniPath
	if cniPath == "" {
		cniPath = n.bin
	}
	return []string{
		"PATH=" + os.Getenv("PATH"), "CNI_PATH=" + cniPath,
		"CNI_COMMAND=" + inv.command, "CNI_CONTAINERID=" + inv.id,
		"CNI_NETNS=" + inv.netns, "CNI_IFNAME=eth0",
	}
}

// pluginConf is the list's only plugin config as a runtime hands it to the
// plugin: with the network's name and cniVersion, plus extra keys
// (prevResult).
func pluginConf(t testing.TB, list *libcni.NetworkConfigList, extra map[string]any) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(list.Plugins[0].Bytes, &p); err != nil {
		t.Fatalf("decoding the plugin config of %s: %v", list.Name, err)
	}
	p["name"], p["cniVersion"] = list.Name, list.CNIVersion
	for k, v := range extra {
		p[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// start forks bin/ipvlan on a thread locked into the node netns, so the
// plugin is born there, as on a real node: nstest.StartIn, through this
// suite's handle-based namespace.
func (n *node) start(t testing.TB, inv invocation, conf []byte) *nstest.Proc {
	t.Helper()
	return nstest.StartIn(t, n.ns.do, n.command(inv, conf))
}

// command is bin/ipvlan with inv's environment and conf on stdin.
func (n *node) command(inv invocation, conf []byte) *exec.Cmd {
	cmd := exec.Command(filepath.Join(n.bin, "ipvlan"))
	cmd.Env = n.environ(inv)
	cmd.Stdin = bytes.NewReader(conf)
	return cmd
}

// run runs the plugin to completion, children included, and returns its
// stdout, stderr and exit error.
func (n *node) run(t testing.TB, inv invocation, conf []byte) (stdout, stderr string, err error) {
	t.Helper()
	p := n.start(t, inv, conf)
	err = p.Cmd.Wait()
	p.WaitGroup(t)
	return p.Stdout.String(), p.Stderr.String(), err
}

// mustRun is run that fails the test unless the plugin exits 0.
func (n *node) mustRun(t testing.TB, inv invocation, conf []byte) string {
	t.Helper()
	stdout, stderr, err := n.run(t, inv, conf)
	if err != nil {
		t.Fatalf("ipvlan %s %s: %v\nstdout: %s\nstderr: %s", inv.command, inv.id, err, stdout, stderr)
	}
	return stdout
}

// cniError is the error JSON the plugin prints on stdout.
type cniError struct {
	Code    uint   `json:"code"`
	Msg     string `json:"msg"`
	Details string `json:"details"`
}

// parseError decodes the plugin's stdout as a CNI error.
func parseError(t testing.TB, stdout string) cniError {
	t.Helper()
	var e cniError
	if err := json.Unmarshal([]byte(stdout), &e); err != nil || e.Code == 0 {
		t.Fatalf("stdout is not CNI error JSON: %q", stdout)
	}
	return e
}
