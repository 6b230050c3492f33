package spoofchk

import (
	"net"
	"strings"
	"testing"
)

// listing is what nft 1.0.6 printed for a chain holding one rule of
// network net1 and one rule someone else added.
const listing = `{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
 {"chain": {"family": "bridge", "table": "netsteer", "name": "macspoofchk", "handle": 1, "type": "filter", "hook": "prerouting", "prio": -300, "policy": "accept"}},
 {"rule": {"family": "bridge", "table": "netsteer", "chain": "macspoofchk", "handle": 2, "comment": "netsteer:net1", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "nsv0"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ether", "field": "saddr"}}, "right": "02:42:0a:00:00:01"}}, {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}},
 {"rule": {"family": "bridge", "table": "netsteer", "chain": "macspoofchk", "handle": 5, "comment": "operator", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "nsv9"}}, {"accept": null}]}},
 {"rule": {"family": "bridge", "table": "netsteer", "chain": "macspoofchk", "handle": 7, "comment": "netsteer:net2", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "nsv1"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ether", "field": "saddr"}}, "right": "02:42:0a:00:00:02"}}, {"drop": null}]}}]}`

func mac(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }

func TestParse(t *testing.T) {
	got, err := Parse([]byte(listing))
	if err != nil {
		t.Fatal(err)
	}
	want := []Listed{
		{Handle: 2, Port: "nsv0", MAC: "02:42:0a:00:00:01", Drop: true, Comment: "netsteer:net1"},
		{Handle: 5, Port: "nsv9", Comment: "operator"},
		{Handle: 7, Port: "nsv1", MAC: "02:42:0a:00:00:02", Drop: true, Comment: "netsteer:net2"},
	}
	if len(got) != len(want) {
		t.Fatalf("Parse = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if l, err := Parse(nil); err != nil || l != nil {
		t.Errorf("Parse(empty) = %v, %v", l, err)
	}
	if _, err := Parse([]byte("{")); err == nil {
		t.Error("Parse accepted broken JSON")
	}
}

func TestEnsureScript(t *testing.T) {
	listed, _ := Parse([]byte(listing))
	const decl = "add table bridge netsteer\nadd chain bridge netsteer macspoofchk { type filter hook prerouting priority -300; policy accept; }\n"
	for _, tc := range []struct {
		name string
		rule Rule
		want string
	}{
		{"in place", Rule{"net1", "nsv0", mac("02:42:0A:00:00:01")}, ""},
		{"new port", Rule{"net1", "nsv3", mac("02:42:0a:00:00:03")}, decl +
			`add rule bridge netsteer macspoofchk iifname "nsv3" ether saddr != 02:42:0a:00:00:03 counter drop comment "netsteer:net1"` + "\n"},
		{"MAC changed: replaced", Rule{"net1", "nsv0", mac("02:42:0a:00:00:09")}, decl +
			"delete rule bridge netsteer macspoofchk handle 2\n" +
			`add rule bridge netsteer macspoofchk iifname "nsv0" ether saddr != 02:42:0a:00:00:09 counter drop comment "netsteer:net1"` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EnsureScript(tc.rule, listed); got != tc.want {
				t.Errorf("EnsureScript =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDeleteScriptTouchesOnlyTheNetworksRules(t *testing.T) {
	listed, _ := Parse([]byte(listing))
	all := func(string) bool { return true }
	if got := DeleteScript("net1", listed, all); got != "delete rule bridge netsteer macspoofchk handle 2\n" {
		t.Errorf("DeleteScript(net1, all) = %q", got)
	}
	if got := DeleteScript("net1", listed, func(p string) bool { return p != "nsv0" }); got != "" {
		t.Errorf("DeleteScript keeping nsv0 = %q, want nothing", got)
	}
	if got := DeleteScript("net3", listed, all); got != "" {
		t.Errorf("DeleteScript of a network without rules = %q", got)
	}
}

func TestCheck(t *testing.T) {
	listed, _ := Parse([]byte(listing))
	for _, tc := range []struct {
		rule Rule
		want string
	}{
		{Rule{"net1", "nsv0", mac("02:42:0a:00:00:01")}, ""},
		{Rule{"net1", "nsv4", mac("02:42:0a:00:00:01")}, "no rule for port nsv4"},
		{Rule{"net1", "nsv0", mac("02:42:0a:00:00:05")}, `allows source MAC "02:42:0a:00:00:01"`},
		{Rule{"net1", "nsv1", mac("02:42:0a:00:00:02")}, `comment "netsteer:net2"`},
	} {
		err := Check(tc.rule, listed)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Check(%+v) = %v, want %q", tc.rule, err, tc.want)
		}
	}
}
