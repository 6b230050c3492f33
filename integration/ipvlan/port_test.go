//go:build vm

package ipvlan

import (
	"fmt"
	"strings"
	"testing"
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
