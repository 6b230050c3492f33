// Package spoofchk owns the nftables rules of macspoofchk: in a bridge-family
// table of netsteer's own (bridge netsteer), one rule per pod port drops the
// frames that enter the bridge from that port with a source MAC other than
// the pod's. It renders `nft -f` scripts and reads `nft -j` listings; running
// nft is the caller's business. Every rule carries the comment
// "netsteer:<network>", so DEL and GC touch only their own network's rules,
// and nothing outside the table is ever touched.
package spoofchk

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Family, Table and Chain name where the rules live. The chain is a base
// chain on the bridge's prerouting hook, so a spoofed frame is dropped
// before it is delivered to the bridge (the pod's gateway) or forwarded to
// another port.
const (
	Family = "bridge"
	Table  = "netsteer"
	Chain  = "macspoofchk"
)

// Rule is one port's check: frames entering from Port must come from MAC.
type Rule struct {
	Network string
	Port    string
	MAC     net.HardwareAddr
}

// Comment marks the rules of a network.
func Comment(network string) string { return "netsteer:" + network }

// Listed is a rule of the chain as nft lists it.
type Listed struct {
	Handle  int
	Port    string // iifname matched, "" if none
	MAC     string // source MAC allowed, "" if none
	Drop    bool
	Comment string
}

// matches reports whether l is exactly r's rule.
func (l Listed) matches(r Rule) bool {
	return l.Port == r.Port && strings.EqualFold(l.MAC, r.MAC.String()) && l.Drop && l.Comment == Comment(r.Network)
}

// ListArgs are the arguments of `nft` that list the chain as JSON.
func ListArgs() []string { return []string{"-j", "list", "chain", Family, Table, Chain} }

// Parse reads `nft -j list chain bridge netsteer macspoofchk`.
func Parse(out []byte) ([]Listed, error) {
	if len(strings.TrimSpace(string(out))) == 0 {
		return nil, nil
	}
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Family, Table, Chain string
				Handle               int
				Comment              string
				Expr                 []json.RawMessage
			} `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("parsing nft listing of %s %s %s: %w", Family, Table, Chain, err)
	}
	var rules []Listed
	for _, o := range doc.Nftables {
		r := o.Rule
		if r == nil || r.Family != Family || r.Table != Table || r.Chain != Chain {
			continue
		}
		l := Listed{Handle: r.Handle, Comment: r.Comment}
		for _, e := range r.Expr {
			l.read(e)
		}
		rules = append(rules, l)
	}
	return rules, nil
}

// read takes what it knows from one statement of a rule.
func (l *Listed) read(raw json.RawMessage) {
	var st struct {
		Match *struct {
			Op   string `json:"op"`
			Left struct {
				Meta    *struct{ Key string }             `json:"meta"`
				Payload *struct{ Protocol, Field string } `json:"payload"`
			} `json:"left"`
			Right any `json:"right"`
		} `json:"match"`
	}
	var verdict map[string]json.RawMessage
	if json.Unmarshal(raw, &st) != nil || json.Unmarshal(raw, &verdict) != nil {
		return
	}
	if _, ok := verdict["drop"]; ok {
		l.Drop = true
	}
	m := st.Match
	if m == nil {
		return
	}
	right, _ := m.Right.(string)
	switch {
	case m.Left.Meta != nil && m.Left.Meta.Key == "iifname" && m.Op == "==":
		l.Port = right
	case m.Left.Payload != nil && m.Left.Payload.Protocol == "ether" && m.Left.Payload.Field == "saddr" && m.Op == "!=":
		l.MAC = right
	}
}

// declare makes the table and chain if missing; nft's add is a no-op
// for an existing table or chain of the same definition.
func declare() string {
	return fmt.Sprintf("add table %s %s\nadd chain %s %s %s { type filter hook prerouting priority -300; policy accept; }\n",
		Family, Table, Family, Table, Chain)
}

// EnsureScript is the `nft -f` script that leaves exactly r for r.Port,
// or "" when the chain already holds just that.
func EnsureScript(r Rule, listed []Listed) string {
	var old []Listed
	for _, l := range listed {
		if l.Port == r.Port {
			old = append(old, l)
		}
	}
	if len(old) == 1 && old[0].matches(r) {
		return ""
	}
	var b strings.Builder
	b.WriteString(declare())
	for _, l := range old {
		fmt.Fprintf(&b, "delete rule %s %s %s handle %d\n", Family, Table, Chain, l.Handle)
	}
	fmt.Fprintf(&b, "add rule %s %s %s iifname %q ether saddr != %s counter drop comment %q\n",
		Family, Table, Chain, r.Port, r.MAC, Comment(r.Network))
	return b.String()
}

// DeleteScript is the script that removes the network's rules of the
// ports drop selects, or "" when there are none. Rules of other networks,
// and rules without our comment, are never selected.
func DeleteScript(network string, listed []Listed, drop func(port string) bool) string {
	var b strings.Builder
	for _, l := range listed {
		if l.Comment == Comment(network) && drop(l.Port) {
			fmt.Fprintf(&b, "delete rule %s %s %s handle %d\n", Family, Table, Chain, l.Handle)
		}
	}
	return b.String()
}

// Check names the difference between the chain and r, or returns nil.
func Check(r Rule, listed []Listed) error {
	i := slices.IndexFunc(listed, func(l Listed) bool { return l.Port == r.Port })
	switch {
	case i < 0:
		return fmt.Errorf("macspoofchk: no rule for port %s in %s %s %s", r.Port, Family, Table, Chain)
	case !listed[i].matches(r):
		return fmt.Errorf("macspoofchk: the rule of port %s allows source MAC %q (comment %q), want %s", r.Port, listed[i].MAC, listed[i].Comment, r.MAC)
	}
	return nil
}
