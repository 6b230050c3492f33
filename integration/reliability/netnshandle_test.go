//go:build integration

package reliability

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/integration/nstest"
)

// hangLimit is how long a plugin may take before a run counts as hung. It
// is a guard against a hang, not a performance bound: a run takes a few
// milliseconds, a hung one never ends.
const hangLimit = 20 * time.Second

// runWithin runs a plugin and fails the test when it has not exited
// within hangLimit (the process is killed then).
func runWithin(t *testing.T, node *nstest.Node, plugin string, env map[string]string, stdin string) (stdout string, err error) {
	t.Helper()
	p := node.StartPlugin(t, plugin, env, stdin)
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(hangLimit):
		p.Kill(t)
		<-done
		t.Fatalf("%s %s with CNI_NETNS=%q hung (killed after %s)", plugin, env["CNI_COMMAND"], env["CNI_NETNS"], hangLimit)
	}
	p.WaitGroup(t)
	return p.Stdout.String(), err
}

// TestFIFOAsNetnsReturnsPromptly: CNI_NETNS naming a FIFO used to block
// ADD and CHECK in open(2) until a writer came (issue 9). Both plugins
// now open it non-blocking, refuse it by name (code 4), and DEL, which
// must work when the netns is gone, succeeds without it.
func TestFIFOAsNetnsReturnsPromptly(t *testing.T) {
	node := nstest.NewNode(t)
	fifo := filepath.Join(t.TempDir(), "nst-fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	confs := map[string]string{
		"vethbridge": network{Name: "fifo", Bridge: "nstbrf", Subnet: "10.96.0.0/24"}.conf(),
		"ipvlan": mustJSON(map[string]any{"cniVersion": "1.1.0", "name": "fifo", "type": "ipvlan", "master": "nstmaster0",
			"ipam": map[string]any{"type": "host-local", "dataDir": "DATADIR/fifo", "ranges": [][]map[string]string{{{"subnet": "10.96.1.0/24"}}}}}),
	}
	for _, plugin := range []string{"vethbridge", "ipvlan"} {
		for _, command := range []string{"ADD", "CHECK", "DEL"} {
			t.Run(plugin+"/"+command, func(t *testing.T) {
				stdout, err := runWithin(t, node, plugin, env(command, "fifo-1", fifo), confs[plugin])
				if command == "DEL" {
					if err != nil {
						t.Fatalf("DEL with a FIFO as CNI_NETNS: %v\n%s", err, stdout)
					}
					return
				}
				if err == nil {
					t.Fatalf("%s succeeded with a FIFO as CNI_NETNS", command)
				}
				if ce := parseError(t, stdout); ce.Code != 4 || !strings.Contains(ce.Msg, "CNI_NETNS") || !strings.Contains(ce.Msg, fifo) {
					t.Errorf("error = code %d %q, want code 4 naming CNI_NETNS and %s", ce.Code, ce.Msg, fifo)
				}
			})
		}
	}
}

// nodeState is what a container-side step misdirected into the node's
// netns would change there, in the kernel's words (ip -j) but without
// what changes on its own (carrier, DAD flags): link names and aliases,
// addresses, routes, and the sysctl the test's config sets in the pod.
func nodeState(t *testing.T, node *nstest.Node) string {
	t.Helper()
	var b strings.Builder
	var links []struct {
		Name  string `json:"ifname"`
		Addrs []struct {
			Local  string `json:"local"`
			Prefix int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	decode(t, node.Host.Exec(t, "ip", "-j", "addr", "show"), &links)
	var aliases []struct {
		Name  string `json:"ifname"`
		Alias string `json:"ifalias"`
	}
	decode(t, node.Host.Exec(t, "ip", "-j", "link", "show"), &aliases)
	for i, l := range links {
		fmt.Fprintf(&b, "link %s alias=%q", l.Name, aliases[i].Alias)
		for _, a := range l.Addrs {
			fmt.Fprintf(&b, " %s/%d", a.Local, a.Prefix)
		}
		b.WriteString("\n")
	}
	for _, family := range []string{"-4", "-6"} {
		var routes []struct{ Dst, Gateway, Dev string }
		// The main table: the local table gains a route for the bridge's
		// link-local address whenever its DAD completes.
		decode(t, node.Host.Exec(t, "ip", "-j", family, "route", "show", "table", "main"), &routes)
		for _, r := range routes {
			fmt.Fprintf(&b, "route %s via %q dev %s\n", r.Dst, r.Gateway, r.Dev)
		}
	}
	fmt.Fprintf(&b, "tcp_keepalive_time=%s\n", node.Host.Sysctl(t, "net/ipv4/tcp_keepalive_time"))
	return b.String()
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
}

// flipper points link at a and b in turn, each switch one atomic rename,
// until stop is closed.
func flipper(t *testing.T, link, a, b string, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	tmp := link + ".new"
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		target := a
		if i%2 == 1 {
			target = b
		}
		_ = os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			t.Errorf("symlink: %v", err)
			return
		}
		if err := os.Rename(tmp, link); err != nil {
			t.Errorf("rename: %v", err)
			return
		}
	}
}

// TestNetnsSymlinkFlippedDuringAdd: a CNI_NETNS symlink switched between
// the pod's netns and the node's while ADDs run (issue 9) must never make
// an ADD write into the node's netns. Each ADD either lands wholly in the
// pod's netns or is refused (code 4, the node's own netns), because the
// path is opened once and only that handle is used afterwards.
func TestNetnsSymlinkFlippedDuringAdd(t *testing.T) {
	node := nstest.NewNode(t)
	nw := network{Name: "flip", Bridge: "nstbrx", Subnet: "10.97.0.0/24", Extra: map[string]any{
		"sysctl": map[string]string{"net.ipv4.tcp_keepalive_time": "317"},
	}}
	leaks := nstest.WatchLeaks(t, node, nw.Name)
	pod := leaks.Netns(t, "flip")
	// A first ADD+DEL through the real path makes what the network shares
	// on the node (bridge, rules, forwarding), so the node is in its
	// steady state before the comparison starts.
	mustRun(t, node, nw, "ADD", "flip-0", pod.Path())
	mustRun(t, node, nw, "DEL", "flip-0", pod.Path())
	before := nodeState(t, node)

	link := filepath.Join(t.TempDir(), "nst-netns-link")
	if err := os.Symlink(pod.Path(), link); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go flipper(t, link, pod.Path(), node.Host.Path(), stop, &wg)
	stopFlipper := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopFlipper() // also when the test fails half-way
	added, refused := 0, 0
	for i := range 40 {
		id := fmt.Sprintf("flip-%d", i+1)
		stdout, err := runWithin(t, node, "vethbridge", env("ADD", id, link), nw.conf())
		switch {
		case err == nil:
			added++
		case parseError(t, stdout).Code == 4:
			refused++
		default:
			t.Errorf("ADD %s: neither success nor a code 4 refusal: %v %s", id, err, stdout)
		}
		mustRun(t, node, nw, "DEL", id, pod.Path())
	}
	stopFlipper()
	if after := nodeState(t, node); after != before {
		t.Errorf("ADDs through a flipping symlink changed the node's netns:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	t.Logf("ADDs through a flipping CNI_NETNS: %d landed in the pod, %d refused as the node's own netns", added, refused)
}
