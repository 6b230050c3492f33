package inspect

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/netsteer/netsteer/pkg/netrules"
)

// RuleReader returns the netfilter rules of one family in
// iptables-save's format.
type RuleReader interface {
	Save(ipv6 bool) (string, error)
}

// IPTablesSave is RuleReader on iptables-save and ip6tables-save, which
// only read.
type IPTablesSave struct{}

// Save runs iptables-save (ip6tables-save for ipv6).
func (IPTablesSave) Save(ipv6 bool) (string, error) {
	cmd := "iptables-save"
	if ipv6 {
		cmd = "ip6tables-save"
	}
	out, err := exec.Command(cmd).Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", cmd, err)
	}
	return string(out), nil
}

// NFTReader returns our nftables table as `nft -j list table` prints it;
// empty when the table is absent.
type NFTReader interface {
	List() ([]byte, error)
}

// NFTList is NFTReader on `nft -j list table inet netsteer`, which only reads.
type NFTList struct{}

// List runs nft; a node without our table gives an empty listing.
func (NFTList) List() ([]byte, error) {
	out, err := exec.Command("nft", "-j", "list", "table", "inet", netrules.Table).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && strings.Contains(string(ee.Stderr), "No such file or directory") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nft -j list table inet %s: %w", netrules.Table, err)
	}
	return out, nil
}

// Rules says whether a network's netfilter rules are in place.
type Rules struct {
	// State is "ok", "missing", "unknown" (they could not be read) or
	// "none" (the plugin owns no host rules, as ipvlan).
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// rules checks a vethbridge network's rules in each family its
// attachments use: the FORWARD jump commented netsteer:<network> to a
// chain that has rules, and with ipMasq the POSTROUTING jump likewise.
func (n Node) rules(nw networkInfo, atts []Attachment) Rules {
	if nw.Plugin != Vethbridge {
		return Rules{State: "none", Detail: nw.Plugin + " owns no host netfilter rules"}
	}
	v4, v6 := families(nw.Name, atts)
	if !v4 && !v6 {
		return Rules{State: "none", Detail: "no attachment with an address"}
	}
	if n.Rules == nil {
		return Rules{State: "unknown", Detail: "no rule reader"}
	}
	switch nw.Backend {
	case "nftables":
		return n.nftRules(nw, v4, v6)
	case "iptables":
		return n.iptRules(nw, v4, v6)
	}
	// auto: iptables when its rules are there, else our nftables table.
	r := n.iptRules(nw, v4, v6)
	if r.State == "ok" || n.NFT == nil {
		return r
	}
	if nr := n.nftRules(nw, v4, v6); nr.State == "ok" {
		return nr
	}
	return r
}

// iptRules checks the iptables backend's jumps in each family used.
func (n Node) iptRules(nw networkInfo, v4, v6 bool) Rules {
	if n.Rules == nil {
		return Rules{State: "unknown", Detail: "no rule reader"}
	}
	var missing []string
	for _, fam := range usedFamilies(v4, v6) {
		text, err := n.Rules.Save(fam.v6)
		if err != nil {
			return Rules{State: "unknown", Detail: err.Error()}
		}
		missing = append(missing, missingJumps(parseSave(text), nw, fam.name)...)
	}
	return rulesFrom(missing, "")
}

// nftRules checks the network's part of our nftables table.
func (n Node) nftRules(nw networkInfo, v4, v6 bool) Rules {
	if n.NFT == nil {
		return Rules{State: "unknown", Detail: "no nftables reader"}
	}
	out, err := n.NFT.List()
	if err != nil {
		return Rules{State: "unknown", Detail: err.Error()}
	}
	st, err := netrules.ParseNFTJSON(out)
	if err != nil {
		return Rules{State: "unknown", Detail: err.Error()}
	}
	var missing []string
	for _, fam := range usedFamilies(v4, v6) {
		for _, m := range st.Missing(nw.Name, nw.Bridge, fam.v6, nw.IPMasq) {
			missing = append(missing, fam.name+" nftables "+m)
		}
	}
	return rulesFrom(missing, "nftables")
}

type family struct {
	v6   bool
	name string
}

func usedFamilies(v4, v6 bool) []family {
	var out []family
	if v4 {
		out = append(out, family{false, "IPv4"})
	}
	if v6 {
		out = append(out, family{true, "IPv6"})
	}
	return out
}

func rulesFrom(missing []string, backend string) Rules {
	if len(missing) > 0 {
		return Rules{State: "missing", Detail: strings.Join(missing, "; ")}
	}
	return Rules{State: "ok", Detail: backend}
}

func families(network string, atts []Attachment) (v4, v6 bool) {
	for _, a := range atts {
		if a.Network != network {
			continue
		}
		for _, addr := range a.Addresses {
			if strings.Contains(addr, ":") {
				v6 = true
			} else {
				v4 = true
			}
		}
	}
	return v4, v6
}

func missingJumps(s saved, nw networkInfo, family string) []string {
	want := []struct{ table, chain string }{{"filter", "FORWARD"}}
	if nw.IPMasq {
		want = append(want, struct{ table, chain string }{"nat", "POSTROUTING"})
	}
	var out []string
	for _, w := range want {
		target, ok := s.jump(w.table, w.chain, "netsteer:"+nw.Name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s %s %s jump netsteer:%s", family, w.table, w.chain, nw.Name))
		case s.rules[w.table+"/"+target] == 0:
			out = append(out, fmt.Sprintf("%s %s chain %s is empty or missing", family, w.table, target))
		}
	}
	return out
}

// saved is iptables-save output reduced to what the check needs.
type saved struct {
	lines []savedRule
	// rules counts the rules of each "table/chain".
	rules map[string]int
}

type savedRule struct {
	table, chain string
	args         []string
}

func parseSave(text string) saved {
	s := saved{rules: map[string]int{}}
	table := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = strings.TrimPrefix(line, "*")
		case strings.HasPrefix(line, "-A "):
			f := strings.Fields(line)
			s.rules[table+"/"+f[1]]++
			s.lines = append(s.lines, savedRule{table: table, chain: f[1], args: f[2:]})
		}
	}
	return s
}

// jump finds the target of the rule in table/chain commented comment
// (iptables-save prints the comment bare or quoted).
func (s saved) jump(table, chain, comment string) (target string, ok bool) {
	for _, r := range s.lines {
		if r.table != table || r.chain != chain {
			continue
		}
		hasComment := false
		for i, a := range r.args {
			if a == "--comment" && i+1 < len(r.args) && strings.Trim(r.args[i+1], `"`) == comment {
				hasComment = true
			}
			if a == "-j" && i+1 < len(r.args) {
				target = r.args[i+1]
			}
		}
		if hasComment && target != "" {
			return target, true
		}
		target = ""
	}
	return "", false
}
