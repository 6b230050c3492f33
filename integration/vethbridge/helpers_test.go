//go:build integration

package vethbridge

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/integration/nstest"
)

// plugin is one vethbridge plugin entry; overrides replace or add keys.
func plugin(network string, subnets []string, overrides map[string]any) map[string]any {
	var ranges [][]map[string]string
	for _, s := range subnets {
		ranges = append(ranges, []map[string]string{{"subnet": s}})
	}
	p := map[string]any{
		"type": "vethbridge", "bridge": "nstbr0", "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
		"ipam": map[string]any{"type": "host-local", "dataDir": "DATADIR", "ranges": ranges},
	}
	if b := backend(); b != "" {
		p["ipMasqBackend"] = b
	}
	for k, v := range overrides {
		if v == nil {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return p
}

// backend is the ipMasqBackend the suite runs under: NST_IPMASQ_BACKEND
// ("iptables" or "nftables"), or "" for auto. `make test-integration`
// runs the suite once per backend.
func backend() string { return os.Getenv("NST_IPMASQ_BACKEND") }

// conflist renders a conflist with the given plugins.
func conflist(version, network string, plugins ...map[string]any) string {
	b, _ := json.MarshalIndent(map[string]any{"cniVersion": version, "name": network, "plugins": plugins}, "", "  ")
	return string(b)
}

// setup is one node with one network loaded and n container namespaces.
type setup struct {
	node  *nstest.Node
	list  *libcni.NetworkConfigList
	conts []nstest.Attachment
}

func newSetup(t *testing.T, text string, n int) *setup {
	t.Helper()
	node := nstest.NewNode(t)
	s := &setup{node: node, list: node.Conflist(t, "10-test.conflist", text)}
	for i := 0; i < n; i++ {
		ns := nstest.NewNetns(t, fmt.Sprintf("c%d", i))
		s.conts = append(s.conts, nstest.Attachment{ID: "ctr-" + ns.Name, Netns: ns, IfName: "eth0"})
	}
	return s
}

// add runs ADD for container i and returns the result in the current version.
func (s *setup) add(t *testing.T, i int) *current.Result {
	t.Helper()
	r, err := s.node.Add(t, s.list, s.conts[i])
	if err != nil {
		t.Fatalf("ADD %s: %v", s.conts[i].ID, err)
	}
	res, err := current.NewResultFromResult(r)
	if err != nil {
		t.Fatal(err)
	}
	// Every result the runtime gets is ours: bridge, host veth, container
	// (results before 0.3.0 have no interface list).
	if s.list.CNIVersion >= "0.3.0" && (len(res.Interfaces) != 3 || res.Interfaces[2].Sandbox != s.conts[i].Netns.Path()) {
		t.Fatalf("ADD result interfaces = %+v", res.Interfaces)
	}
	t.Cleanup(func() { _ = s.node.Del(t, s.list, s.conts[i]) })
	return res
}

func (s *setup) del(t *testing.T, i int) {
	t.Helper()
	if err := s.node.Del(t, s.list, s.conts[i]); err != nil {
		t.Fatalf("DEL %s: %v", s.conts[i].ID, err)
	}
}

// addrOf is the container's first address of one family, without the mask.
func addrOf(t *testing.T, res *current.Result, v6 bool) string {
	t.Helper()
	for _, ip := range res.IPs {
		if (ip.Address.IP.To4() == nil) == v6 {
			return ip.Address.IP.String()
		}
	}
	t.Fatalf("result has no IPv6=%v address: %+v", v6, res.IPs)
	return ""
}

// ping sends one echo request from a namespace and fails the test if it
// gets no reply.
func ping(t *testing.T, from nstest.Netns, to string) {
	t.Helper()
	if out, err := from.TryExec("ping", "-c", "1", "-W", "3", to); err != nil {
		t.Fatalf("ping %s from %s: %v\n%s", to, from.Name, err, out)
	}
}

// hostVeths lists the node's veths (the host ends of attachments).
func hostVeths(t *testing.T, node *nstest.Node) []string {
	t.Helper()
	return node.Host.LinksOfKind(t, "veth")
}

// rxQueues reads rps_cpus and rps_flow_cnt of every rx queue of dev
// through a sysfs that belongs to the node's host netns.
func rxQueues(t *testing.T, node *nstest.Node, dev string) map[string][2]string {
	t.Helper()
	out := node.Host.Exec(t, "sh", "-c",
		fmt.Sprintf(`for q in /sys/class/net/%s/queues/rx-*; do echo "${q##*/} $(cat $q/rps_cpus) $(cat $q/rps_flow_cnt)"; done`, dev))
	m := map[string][2]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 {
			m[f[0]] = [2]string{f[1], f[2]}
		}
	}
	if len(m) == 0 {
		t.Fatalf("no rx queues read for %s: %q", dev, out)
	}
	return m
}

// cniCode extracts the CNI error code from a libcni error.
func cniCode(err error) uint {
	if te, ok := err.(*types.Error); ok {
		return te.Code
	}
	return 0
}

// listen starts a TCP server inside ns that reports each client's
// address; it returns the port and a channel of remote addresses.
func listen(t *testing.T, ns nstest.Netns, addr string) (port int, remotes chan string) {
	t.Helper()
	remotes = make(chan string, 4)
	var ln net.Listener
	if err := ns.Do(t, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(addr, "0"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			remotes <- c.RemoteAddr().(*net.TCPAddr).IP.String()
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, remotes
}

// dial connects from inside ns and fails the test if it cannot, with the
// node's rule counters, neighbours and bridge ports for the diagnosis.
func dial(t *testing.T, node *nstest.Node, ns nstest.Netns, addr string, port int) {
	t.Helper()
	err := ns.Do(t, func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, fmt.Sprint(port)), 3*time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		diag, _ := node.Host.TryExec("sh", "-c", "iptables-save -c; nft list ruleset; ip neigh; bridge link; ip -s link")
		t.Fatalf("connecting from %s to %s:%d: %v\nnode state:\n%s", ns.Name, addr, port, err, diag)
	}
}

// outside connects the node to an "outside" netns over a veth pair with
// TEST-NET-1 addresses (only inside these namespaces): node 192.0.2.1,
// outside 192.0.2.2.
func outside(t *testing.T, node *nstest.Node) nstest.Netns {
	t.Helper()
	out := nstest.NewNetns(t, "out")
	nstest.Run(t, "ip", "-n", node.Host.Name, "link", "add", "nstup0", "type", "veth", "peer", "name", "nstup1", "netns", out.Name)
	nstest.Run(t, "ip", "-n", node.Host.Name, "addr", "add", "192.0.2.1/24", "dev", "nstup0")
	nstest.Run(t, "ip", "-n", node.Host.Name, "link", "set", "nstup0", "up")
	nstest.Run(t, "ip", "-n", out.Name, "addr", "add", "192.0.2.2/24", "dev", "nstup1")
	nstest.Run(t, "ip", "-n", out.Name, "link", "set", "nstup1", "up")
	return out
}

// reservations fails unless host-local holds exactly want for network.
func wantReservations(t *testing.T, node *nstest.Node, network string, want int) {
	t.Helper()
	if got := node.Reservations(t, network); len(got) != want {
		t.Fatalf("host-local reservations for %s = %v, want %d", network, got, want)
	}
}

func repoConf(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(nstest.RepoRoot(t), "conf", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
