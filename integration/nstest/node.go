package nstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
)

// Node is a simulated Kubernetes node: its own "host" netns, where the
// plugins run, a CNI config dir, a host-local data dir and a libcni cache
// dir, all removed at cleanup.
type Node struct {
	Host     Netns
	Bin      string
	ConfDir  string
	DataDir  string
	CacheDir string
	cni      *libcni.CNIConfig
}

// NewNode makes a node with a fresh host netns.
func NewNode(t testing.TB) *Node {
	t.Helper()
	RequireRoot(t.(*testing.T))
	dir := t.TempDir()
	n := &Node{
		Host:     NewNetns(t, "host"),
		Bin:      BinDir(t),
		ConfDir:  filepath.Join(dir, "net.d"),
		DataDir:  filepath.Join(dir, "ipam"),
		CacheDir: filepath.Join(dir, "cache"),
	}
	for _, d := range []string{n.ConfDir, n.DataDir, n.CacheDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n.cni = libcni.NewCNIConfigWithCacheDir([]string{n.Bin}, n.CacheDir, nil)
	return n
}

// Conflist writes a conflist to the node's conf dir and loads it with
// libcni. DATADIR in the text is replaced by the node's host-local dir.
func (n *Node) Conflist(t testing.TB, file, text string) *libcni.NetworkConfigList {
	t.Helper()
	text = strings.ReplaceAll(text, "DATADIR", n.DataDir)
	path := filepath.Join(n.ConfDir, file)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := libcni.ConfListFromFile(path)
	if err != nil {
		t.Fatalf("libcni cannot load %s: %v", file, err)
	}
	return list
}

// Attachment names one container interface on the node.
type Attachment struct {
	ID     string
	Netns  Netns
	IfName string
	Args   [][2]string
	Caps   map[string]any
}

func (a Attachment) rt() *libcni.RuntimeConf {
	ifname := a.IfName
	if ifname == "" {
		ifname = "eth0"
	}
	return &libcni.RuntimeConf{ContainerID: a.ID, NetNS: a.Netns.Path(), IfName: ifname, Args: a.Args, CapabilityArgs: a.Caps}
}

// Add runs ADD for the whole list inside the node's host netns.
func (n *Node) Add(t testing.TB, list *libcni.NetworkConfigList, a Attachment) (types.Result, error) {
	t.Helper()
	var res types.Result
	err := n.Host.Do(t, func() (err error) {
		res, err = n.cni.AddNetworkList(context.Background(), list, a.rt())
		return err
	})
	return res, err
}

// Del runs DEL; a netns path that no longer exists is passed as it is.
func (n *Node) Del(t testing.TB, list *libcni.NetworkConfigList, a Attachment) error {
	t.Helper()
	return n.Host.Do(t, func() error { return n.cni.DelNetworkList(context.Background(), list, a.rt()) })
}

// Check runs CHECK with the cached result of ADD.
func (n *Node) Check(t testing.TB, list *libcni.NetworkConfigList, a Attachment) error {
	t.Helper()
	return n.Host.Do(t, func() error { return n.cni.CheckNetworkList(context.Background(), list, a.rt()) })
}

// GC runs GC with the given attachments valid.
func (n *Node) GC(t testing.TB, list *libcni.NetworkConfigList, valid ...Attachment) error {
	t.Helper()
	args := &libcni.GCArgs{}
	for _, a := range valid {
		rt := a.rt()
		args.ValidAttachments = append(args.ValidAttachments, types.GCAttachment{ContainerID: rt.ContainerID, IfName: rt.IfName})
	}
	return n.Host.Do(t, func() error { return n.cni.GCNetworkList(context.Background(), list, args) })
}

// Status runs STATUS.
func (n *Node) Status(t testing.TB, list *libcni.NetworkConfigList) error {
	t.Helper()
	return n.Host.Do(t, func() error { return n.cni.GetStatusNetworkList(context.Background(), list) })
}

// Cnitool runs bin/cnitool inside the host netns with the node's conf dir.
func (n *Node) Cnitool(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Host.Name, filepath.Join(n.Bin, "cnitool")}, args...)...)
	cmd.Env = append(os.Environ(), "NETCONFPATH="+n.ConfDir, "CNI_PATH="+n.Bin, "CNI_CACHE_DIR="+n.CacheDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("cnitool %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Reservations lists host-local's reservation files for a network.
func (n *Node) Reservations(t testing.TB, network string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(n.DataDir, network))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if name := e.Name(); !strings.HasPrefix(name, "last_reserved_ip") && name != "lock" {
			out = append(out, name)
		}
	}
	return out
}

// Plugin runs one plugin binary directly, like a runtime does, inside the
// host netns, and returns stdout, stderr and the exit error.
func (n *Node) Plugin(t testing.TB, plugin string, env map[string]string, stdin string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", n.Host.Name, filepath.Join(n.Bin, plugin))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CNI_PATH=" + n.Bin}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(strings.ReplaceAll(stdin, "DATADIR", n.DataDir))
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
