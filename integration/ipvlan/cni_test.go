//go:build vm

package ipvlan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// binDir is CNI_PATH: NETSTEER_BIN, else the repository's bin/, found from
// this file's path (the harness mirrors it into the VM at the same path).
func binDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NETSTEER_BIN")
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			t.Fatal("cannot locate the repository: set NETSTEER_BIN")
		}
		dir = filepath.Join(filepath.Dir(file), "..", "..", "bin")
	}
	for _, plugin := range []string{"ipvlan", "host-local"} {
		if _, err := os.Stat(filepath.Join(dir, plugin)); err != nil {
			t.Fatalf("plugin binary missing (run make build, and pass bin/ in NETSTEER_VM_FILES): %v", err)
		}
	}
	return dir
}

// node is the "host" of a test: a netns holding the master, in which the
// plugins run, with a libcni whose cache and host-local store are the
// test's own temp dirs.
type node struct {
	ns       *namespace
	lib      *libcni.CNIConfig
	dataDir  string
	cacheDir string // libcni's
	bin      string
}

// master is the node's ipvlan master: an up dummy with MTU 1500.
const master = "nstm0"

func newNode(t *testing.T) *node {
	t.Helper()
	n := &node{ns: newNamespace(t, "node"), dataDir: t.TempDir(), cacheDir: t.TempDir(), bin: binDir(t)}
	n.lib = libcni.NewCNIConfigWithCacheDir([]string{n.bin}, n.cacheDir, nil)
	n.ns.addDummy(t, master, 1500)
	return n
}

// netOpts are the parts of an ipvlan network config the tests vary.
type netOpts struct {
	name    string
	version string // default 1.1.0
	subnet  string
	routes  []map[string]string
	extra   map[string]any // more ipvlan keys: master, mode, mtu, sysctl…
}

// network writes a one-plugin conflist (ipvlan with host-local) to a temp
// dir and loads it the way a runtime does.
func (n *node) network(t *testing.T, o netOpts) *libcni.NetworkConfigList {
	t.Helper()
	if o.version == "" {
		o.version = "1.1.0"
	}
	plugin := map[string]any{
		"type": "ipvlan", "master": master,
		"ipam": map[string]any{
			"type": "host-local", "dataDir": n.dataDir,
			"ranges": [][]map[string]string{{{"subnet": o.subnet}}},
			"routes": o.routes,
		},
	}
	for k, v := range o.extra {
		if v == nil {
			delete(plugin, k)
		} else {
			plugin[k] = v
		}
	}
	b, err := json.MarshalIndent(map[string]any{
		"cniVersion": o.version, "name": o.name, "plugins": []any{plugin},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), o.name+".conflist")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		t.Fatalf("loading %s: %v\n%s", file, err, b)
	}
	return list
}

// rt is the runtime's view of one attachment.
func rt(id string, ns *namespace) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: id, NetNS: ns.Path, IfName: "eth0"}
}

// inNode runs a libcni call on a thread inside the node netns: the plugin
// processes it forks inherit that netns, as on a real node.
func (n *node) inNode(call func(ctx context.Context) error) error {
	return n.ns.do(func() error { return call(context.Background()) })
}

func (n *node) add(list *libcni.NetworkConfigList, r *libcni.RuntimeConf) (*current.Result, error) {
	var res *current.Result
	err := n.inNode(func(ctx context.Context) error {
		raw, err := n.lib.AddNetworkList(ctx, list, r)
		if err != nil {
			return err
		}
		res, err = current.NewResultFromResult(raw)
		return err
	})
	return res, err
}

func (n *node) del(list *libcni.NetworkConfigList, r *libcni.RuntimeConf) error {
	return n.inNode(func(ctx context.Context) error { return n.lib.DelNetworkList(ctx, list, r) })
}

func (n *node) check(list *libcni.NetworkConfigList, r *libcni.RuntimeConf) error {
	return n.inNode(func(ctx context.Context) error { return n.lib.CheckNetworkList(ctx, list, r) })
}

func (n *node) status(list *libcni.NetworkConfigList) error {
	return n.inNode(func(ctx context.Context) error { return n.lib.GetStatusNetworkList(ctx, list) })
}

// container is one attached container netns and its address.
type container struct {
	ns      *namespace
	id      string
	network string
	addr    netip.Prefix
	res     *current.Result
}

// attach creates a container netns and ADDs it to list; a failure fails the test.
func (n *node) attach(t *testing.T, list *libcni.NetworkConfigList, purpose string) container {
	t.Helper()
	c := container{ns: newNamespace(t, purpose), id: containerID(t, purpose), network: list.Name}
	res, err := n.add(list, rt(c.id, c.ns))
	if err != nil {
		t.Fatalf("ADD %s to %s: %v", c.id, list.Name, err)
	}
	if len(res.IPs) == 0 {
		t.Fatalf("ADD %s: result without IPs: %v", c.id, res)
	}
	c.res = res
	c.addr, _ = netip.ParsePrefix(res.IPs[0].Address.String())
	return c
}

func containerID(t *testing.T, purpose string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "nst-" + purpose + "-" + hex.EncodeToString(b)
}

// reserved lists the addresses host-local holds for network: the files
// of its store named like an IP.
func (n *node) reserved(t *testing.T, network string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(n.dataDir, network))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, e := range entries {
		if _, err := netip.ParseAddr(e.Name()); err == nil {
			ips = append(ips, e.Name())
		}
	}
	slices.Sort(ips)
	return ips
}

// cniCode is the CNI error code of err, or 0.
func cniCode(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}
