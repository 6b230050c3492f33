//go:build vm

package ipvlan

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

// TestMasterPortConflicts: the node's master already carries an ipvlan
// link in l2 mode with the default flag, marked as a pod of network
// "nstother" (issue 9, class 10). An ADD asking for l3, or for the private
// flag, would switch every link on the master: it is refused with code 7
// naming the port's mode or flag and that network, and leaves the link as
// it was. A master that is itself an ipvlan link is refused with code 7.
func TestMasterPortConflicts(t *testing.T) {
	n := newNode(t)
	held := "nstiv0"
	ip(t, "-n", n.ns.Name, "link", "add", held, "link", master, "type", "ipvlan", "mode", "l2")
	ip(t, "-n", n.ns.Name, "link", "set", held, "alias", "netsteer:nstother:c9:eth0")
	for i, tc := range []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"mode differs", map[string]any{"mode": "l3"}, []string{`"mode" = "l3"`, "mode l2", `network "nstother"`}},
		{"flag differs", map[string]any{"flag": "private"}, []string{`"flag" = "private"`, "flag bridge", `network "nstother"`}},
		{"master is an ipvlan", map[string]any{"master": held}, []string{`"master" = "nstiv0"`, "itself an ipvlan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := n.network(t, netOpts{name: "nstport", subnet: fmt.Sprintf("10.33.%d.0/24", i+1), extra: tc.extra})
			c := newNamespace(t, "port")
			_, err := n.add(list, rt(containerID(t, "port"), c))
			if cniCode(err) != 7 {
				t.Fatalf("ADD = %v (code %d), want 7", err, cniCode(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ADD error %q lacks %q", err, w)
				}
			}
			if got := n.reserved(t, "nstport"); len(got) != 0 {
				t.Errorf("refused ADD left reservations %v", got)
			}
			if l := n.ns.link(t, held); l == nil || l.Linkinfo.InfoData["mode"] != "l2" || l.Linkinfo.InfoData["bridge"] != true {
				t.Errorf("the existing link changed: %+v", l)
			}
		})
	}
	// The agreeing config is accepted.
	list := n.network(t, netOpts{name: "nstportok", subnet: "10.33.9.0/24"})
	n.attach(t, list, "ok")
}

// TestMasterPortHeldByPodsInTheirNetns: two pods of an l2/private network
// sit on the master, their links in their own netns where the node
// cannot list them (issue 9, class 10). A second network asking for l3,
// or for the default flag, on the same master would switch both pods:
// its ADD is refused with code 7 naming the port's mode or flag and the
// first network, and leaves the pods' links as `ip -d link` reported them
// and nothing of its own. Once the last pod is DELed the master takes the
// other mode. A pod whose netns went without a DEL does not hold it.
func TestMasterPortHeldByPodsInTheirNetns(t *testing.T) {
	n := newNode(t)
	first := n.network(t, netOpts{name: "nstpriv", subnet: "10.34.1.0/24", extra: map[string]any{"mode": "l2", "flag": "private"}})
	pods := []container{n.attach(t, first, "priv1"), n.attach(t, first, "priv2")}
	l3 := n.network(t, netOpts{name: "nstl3", subnet: "10.34.2.0/24", extra: map[string]any{"mode": "l3"}})
	for _, tc := range []struct {
		name   string
		second *libcni.NetworkConfigList
		want   []string
	}{
		{"mode l3", l3, []string{`"mode" = "l3"`, "mode l2", `network "nstpriv"`, master}},
		{"flag bridge", n.network(t, netOpts{name: "nstbridge", subnet: "10.34.3.0/24", extra: map[string]any{"mode": "l2"}}),
			[]string{`"flag" = "bridge"`, "flag private", `network "nstpriv"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newNamespace(t, "second")
			_, err := n.add(tc.second, rt(containerID(t, "second"), c))
			if cniCode(err) != 7 {
				t.Fatalf("ADD = %v (code %d), want 7", err, cniCode(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ADD error %q lacks %q", err, w)
				}
			}
			if got := n.reserved(t, tc.second.Name); len(got) != 0 {
				t.Errorf("refused ADD left reservations %v", got)
			}
			assertOnlyLoopback(t, c)
			for _, p := range pods {
				assertIPVlan(t, n, p, "l2", "private")
			}
		})
	}
	for i, p := range pods {
		if err := n.del(first, rt(p.id, p.ns)); err != nil {
			t.Fatalf("DEL %s: %v", p.id, err)
		}
		c := newNamespace(t, "second")
		id := containerID(t, "second")
		res, err := n.add(l3, rt(id, c))
		if i == 0 {
			if cniCode(err) != 7 {
				t.Fatalf("ADD l3 with %s still on the master = %v, want code 7", pods[1].id, err)
			}
			assertIPVlan(t, n, pods[1], "l2", "private")
			continue
		}
		if err != nil {
			t.Fatalf("ADD l3 after the last pod of %s was DELed: %v", first.Name, err)
		}
		if len(res.IPs) == 0 {
			t.Fatalf("ADD l3: result without IPs: %v", res)
		}
		addr, _ := netip.ParsePrefix(res.IPs[0].Address.String())
		assertIPVlan(t, n, container{ns: c, id: id, network: l3.Name, addr: addr}, "l3", "bridge")
		// The l3 pod's netns goes without a DEL (its link with it): it no
		// longer holds the port.
		c.remove(t)
	}
	p := n.attach(t, first, "priv3")
	assertIPVlan(t, n, p, "l2", "private")
}
