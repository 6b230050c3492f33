//go:build vm

package vmsmoke

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// inVM reports whether the test runs in the harness's guest, where every
// module (dummy included) is loaded and nothing may be skipped.
func inVM() bool {
	return os.Getenv("NETSTEER_IN_VM") == "1"
}

// TestIPVLANL2 puts two ipvlan L2 links on one master into two container
// namespaces and opens a TCP connection between them, for a veth and a
// dummy master.
func TestIPVLANL2(t *testing.T) {
	masters := []struct {
		kind string
		link func(name string) netlink.Link
	}{
		{"veth", func(name string) netlink.Link {
			return &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}
		}},
		{"dummy", func(name string) netlink.Link {
			return &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}}
		}},
	}
	for _, m := range masters {
		t.Run(m.kind, func(t *testing.T) {
			_, hostNS := newNetns(t, "smoke-host")
			h := handleAt(t, hostNS)
			master := ensureMaster(t, h, m.link("nst-m0"))
			a := addContainer(t, h, master, "nst-iv0", "192.0.2.1/24")
			b := addContainer(t, h, master, "nst-iv1", "192.0.2.2/24")
			for _, c := range []container{a, b} {
				assertIPVLANL2(t, c)
			}
			assertTCP(t, a, b)
		})
	}
}

// ensureMaster creates the master link and sets it up, with its veth peer:
// ipvlan links take their carrier from the master, and a veth has carrier
// only while its peer is up. Only a kernel without dummy may skip, and
// never in the VM.
func ensureMaster(t *testing.T, h *netlink.Handle, l netlink.Link) netlink.Link {
	t.Helper()
	err := h.LinkAdd(l)
	if errors.Is(err, unix.EOPNOTSUPP) && !inVM() {
		t.Skipf("host kernel lacks %s links (in the VM this is a failure)", l.Type())
	}
	if err != nil {
		t.Fatalf("creating %s %s: %v", l.Type(), l.Attrs().Name, err)
	}
	names := []string{l.Attrs().Name}
	if v, ok := l.(*netlink.Veth); ok {
		names = append(names, v.PeerName)
	}
	for _, name := range names {
		setUp(t, h, name)
	}
	link, err := h.LinkByName(l.Attrs().Name)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func setUp(t *testing.T, h *netlink.Handle, name string) {
	t.Helper()
	link, err := h.LinkByName(name)
	if err != nil {
		t.Fatalf("finding %s: %v", name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		t.Fatalf("setting %s up: %v", name, err)
	}
}

// container is one ipvlan link in a namespace of its own.
type container struct {
	nsName string
	ns     netns.NsHandle
	ifname string
	addr   *netlink.Addr
}

// addContainer creates an ipvlan L2 link on master, moves it into a new
// namespace, and gives it addr.
func addContainer(t *testing.T, h *netlink.Handle, master netlink.Link, ifname, addr string) container {
	t.Helper()
	nsName, ns := newNetns(t, "smoke-ctr")
	iv := &netlink.IPVlan{LinkAttrs: netlink.LinkAttrs{Name: ifname, ParentIndex: master.Attrs().Index}, Mode: netlink.IPVLAN_MODE_L2}
	if err := h.LinkAdd(iv); err != nil {
		t.Fatalf("creating ipvlan %s: %v", ifname, err)
	}
	if err := h.LinkSetNsFd(iv, int(ns)); err != nil {
		t.Fatalf("moving %s to %s: %v", ifname, nsName, err)
	}
	a, err := netlink.ParseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	ch := handleAt(t, ns)
	link, err := ch.LinkByName(ifname)
	if err != nil {
		t.Fatalf("finding %s in %s: %v", ifname, nsName, err)
	}
	if err := ch.AddrAdd(link, a); err != nil {
		t.Fatalf("adding %s to %s: %v", addr, ifname, err)
	}
	if err := ch.LinkSetUp(link); err != nil {
		t.Fatalf("setting %s up: %v", ifname, err)
	}
	return container{nsName: nsName, ns: ns, ifname: ifname, addr: a}
}

// assertIPVLANL2 checks the link in iproute2's own words.
func assertIPVLANL2(t *testing.T, c container) {
	t.Helper()
	out, err := exec.Command("ip", "-d", "-j", "-n", c.nsName, "link", "show", c.ifname).Output()
	if err != nil {
		t.Fatalf("ip -d -j -n %s link show %s: %v", c.nsName, c.ifname, err)
	}
	var links []struct {
		Linkinfo struct {
			InfoKind string `json:"info_kind"`
			InfoData struct {
				Mode string `json:"mode"`
			} `json:"info_data"`
		} `json:"linkinfo"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatalf("decoding ip -j output %s: %v", out, err)
	}
	if len(links) != 1 || links[0].Linkinfo.InfoKind != "ipvlan" || links[0].Linkinfo.InfoData.Mode != "l2" {
		t.Errorf("%s in %s: want one ipvlan link in mode l2, ip says %s", c.ifname, c.nsName, out)
	}
}

// assertTCP connects from a to b and checks that b sees a's address.
func assertTCP(t *testing.T, a, b container) {
	t.Helper()
	var ln net.Listener
	err := inNetns(b.ns, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(b.addr.IP.String(), "0"))
		return err
	})
	if err != nil {
		t.Fatalf("listening in %s: %v", b.nsName, err)
	}
	defer ln.Close()
	peer := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			peer <- "accept: " + err.Error()
			return
		}
		defer conn.Close()
		peer <- conn.RemoteAddr().(*net.TCPAddr).IP.String()
		io.WriteString(conn, "nst-smoke")
	}()
	var got []byte
	err = inNetns(a.ns, func() error {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer conn.Close()
		got, err = io.ReadAll(conn)
		return err
	})
	if err != nil {
		t.Fatalf("connecting from %s to %s: %v", a.nsName, ln.Addr(), err)
	}
	if src := <-peer; src != a.addr.IP.String() || string(got) != "nst-smoke" {
		t.Errorf("connection %s -> %s: server saw source %q, client read %q", a.addr.IP, ln.Addr(), src, got)
	}
}

// TestIptablesSave adds a masquerade rule in a fresh namespace with each
// iptables backend and finds it in that backend's iptables-save output.
func TestIptablesSave(t *testing.T) {
	backends := []struct{ name, iptables, save string }{
		{"nft", "iptables-nft", "iptables-nft-save"},
		{"legacy", "iptables-legacy", "iptables-legacy-save"},
	}
	rule := "-A POSTROUTING -s 192.0.2.0/24 -m comment --comment nst-smoke -j MASQUERADE"
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			nsName, _ := newNetns(t, "smoke-ipt")
			run(t, "ip", append([]string{"netns", "exec", nsName, b.iptables, "-t", "nat"}, strings.Fields(rule)...)...)
			out := run(t, "ip", "netns", "exec", nsName, b.save, "-t", "nat")
			if !strings.Contains(out, rule+"\n") {
				t.Errorf("%s -t nat lacks %q:\n%s", b.save, rule, out)
			}
		})
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
