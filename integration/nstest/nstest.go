// Package nstest is the integration tests' toolkit: throwaway network
// namespaces named with the "nst-" prefix and removed by t.Cleanup, a
// "node" that runs CNI plugins inside its own host netns through libcni or
// cnitool, and readers that report kernel state in the kernel's own words
// (`ip -j`, /proc, /sys, iptables-save). Nothing here touches the real
// host's network namespace.
package nstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
)

// RequireRoot fails the test (never skips it) when not root: in CI a
// skipped integration suite would hide that nothing was tested.
func RequireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("integration tests need root: run `sudo make test`")
	}
}

// RepoRoot is the repository's top directory (holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// BinDir is where `make build` put our plugins and the reference binaries.
func BinDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NETSTEER_BIN"); d != "" {
		return d
	}
	d := filepath.Join(RepoRoot(t), "bin")
	for _, b := range []string{"vethbridge", "host-local", "loopback", "cnitool"} {
		if _, err := os.Stat(filepath.Join(d, b)); err != nil {
			t.Fatalf("%s missing: run `make build` first (%v)", b, err)
		}
	}
	return d
}

// Rand returns n random hex characters for unique names.
func Rand(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// Netns is a named network namespace under /var/run/netns.
type Netns struct{ Name string }

// Path is the namespace's bind mount, the form CNI_NETNS takes.
func (n Netns) Path() string { return "/var/run/netns/" + n.Name }

// NewNetns creates "nst-<purpose>-<random>" with lo up, deleted at cleanup.
func NewNetns(t testing.TB, purpose string) Netns {
	t.Helper()
	n := Netns{Name: fmt.Sprintf("nst-%s-%s", purpose, Rand(6))}
	Run(t, "ip", "netns", "add", n.Name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.Name).Run() })
	Run(t, "ip", "-n", n.Name, "link", "set", "lo", "up")
	return n
}

// Exec runs a command inside the namespace (`ip netns exec`, which also
// mounts a /sys that shows this namespace's devices).
func (n Netns) Exec(t testing.TB, args ...string) string {
	t.Helper()
	return Run(t, append([]string{"ip", "netns", "exec", n.Name}, args...)...)
}

// TryExec is Exec that returns the error instead of failing the test.
func (n Netns) TryExec(args ...string) (string, error) {
	return Output(append([]string{"ip", "netns", "exec", n.Name}, args...)...)
}

// Do runs f on a locked OS thread inside the namespace; processes f
// starts (a CNI plugin exec'd by libcni) inherit the namespace. The
// thread returns to its own namespace afterwards (pkg/ns does that).
func (n Netns) Do(t testing.TB, f func() error) error {
	t.Helper()
	return ns.WithNetNSPath(n.Path(), func(ns.NetNS) error { return f() })
}

// Run runs a command and fails the test on error, with its output.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := Output(args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// Output runs a command and returns its stdout; the error carries stderr.
func Output(args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// Link is the part of `ip -j link` output the tests read.
type Link struct {
	Name      string   `json:"ifname"`
	Kind      string   `json:"-"`
	Master    string   `json:"master"`
	Address   string   `json:"address"`
	Flags     []string `json:"flags"`
	OperState string   `json:"operstate"`
	Alias     string   `json:"ifalias"`
	LinkInfo  struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
}

// Links lists the namespace's links as `ip -j -d link` reports them.
func (n Netns) Links(t testing.TB) []Link {
	t.Helper()
	var links []Link
	if err := json.Unmarshal([]byte(Run(t, "ip", "-j", "-d", "-n", n.Name, "link", "show")), &links); err != nil {
		t.Fatalf("parsing ip -j link: %v", err)
	}
	for i := range links {
		links[i].Kind = links[i].LinkInfo.Kind
	}
	return links
}

// LinksOfKind lists the names of links of one kind ("veth", "bridge").
func (n Netns) LinksOfKind(t testing.TB, kind string) []string {
	t.Helper()
	var out []string
	for _, l := range n.Links(t) {
		if l.Kind == kind {
			out = append(out, l.Name)
		}
	}
	return out
}

// Addrs lists an interface's addresses ("10.1.0.2/24") per `ip -j addr`.
func (n Netns) Addrs(t testing.TB, ifname string) []string {
	t.Helper()
	var out []struct {
		AddrInfo []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(Run(t, "ip", "-j", "-n", n.Name, "addr", "show", "dev", ifname)), &out); err != nil {
		t.Fatalf("parsing ip -j addr: %v", err)
	}
	var addrs []string
	for _, l := range out {
		for _, a := range l.AddrInfo {
			if a.Scope != "link" {
				addrs = append(addrs, fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
			}
		}
	}
	return addrs
}

// Sysctl reads /proc/sys/<path> inside the namespace.
func (n Netns) Sysctl(t testing.TB, path string) string {
	t.Helper()
	return strings.TrimSpace(n.Exec(t, "cat", "/proc/sys/"+path))
}

// SetSysctl writes /proc/sys/<path> inside the namespace.
func (n Netns) SetSysctl(t testing.TB, path, value string) {
	t.Helper()
	n.Exec(t, "sh", "-c", fmt.Sprintf("echo %s > /proc/sys/%s", value, path))
}

// Rules is iptables-save (or ip6tables-save) output inside the namespace,
// without comments and counters, so two snapshots compare as text,
// followed by netsteer's nftables table as NFTRules renders it (its IPv6
// masquerade with v6, everything else without).
func (n Netns) Rules(t testing.TB, v6 bool) string {
	t.Helper()
	var keep []string
	for _, l := range n.NFTRules(t) {
		if strings.Contains(l, "masq6-") == v6 {
			keep = append(keep, l)
		}
	}
	return strings.Join(append([]string{n.xtablesRules(t, v6)}, keep...), "\n")
}

// NFTRules is table inet netsteer, one line per rule ("nft <chain> <rule>")
// and per set or map element ("nft <set> <element>"), so the lines of one
// network carry its chain names as iptables-save lines do. Without the
// nft binary or the table, it is empty.
func (n Netns) NFTRules(t testing.TB) []string {
	t.Helper()
	out, err := n.TryExec("nft", "list", "table", "inet", "netsteer")
	if err != nil {
		return nil
	}
	var lines []string
	var block string
	var elems *strings.Builder
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		f := strings.Fields(l)
		switch {
		case elems != nil:
			elems.WriteString(" " + l)
			if strings.HasSuffix(l, "}") {
				lines = append(lines, nftElems(block, elems.String())...)
				elems = nil
			}
		case len(f) >= 2 && (f[0] == "chain" || f[0] == "set" || f[0] == "map"):
			block = f[1]
		case strings.HasPrefix(l, "elements = {"):
			elems = &strings.Builder{}
			elems.WriteString(strings.TrimPrefix(l, "elements = "))
			if strings.HasSuffix(l, "}") {
				lines = append(lines, nftElems(block, elems.String())...)
				elems = nil
			}
		case l == "" || l == "}" || strings.HasPrefix(l, "table ") || strings.HasPrefix(l, "type ") || strings.HasPrefix(l, "flags "):
		default:
			lines = append(lines, "nft "+block+" "+l)
		}
	}
	return lines
}

func nftElems(set, list string) []string {
	var out []string
	for _, e := range strings.Split(strings.Trim(list, "{} "), ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, "nft "+set+" "+e)
		}
	}
	return out
}

func (n Netns) xtablesRules(t testing.TB, v6 bool) string {
	t.Helper()
	cmd := "iptables-save"
	if v6 {
		cmd = "ip6tables-save"
	}
	var keep []string
	for _, l := range strings.Split(n.Exec(t, cmd), "\n") {
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		if strings.HasPrefix(l, ":") {
			l = strings.Fields(l)[0] + " " + strings.Fields(l)[1]
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// PossibleCPUs is the kernel's possible CPU count (what "all" means).
func PossibleCPUs(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexAny(s, "-,"); i >= 0 {
		s = s[i+1:]
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("parsing %q: %v", b, err)
	}
	return n + 1
}

// Topology is the namespace's links, addresses and routes as `ip -o`
// reports them, minus what the kernel changes on its own schedule: a
// link's operational state and IPv6 link-local addresses and routes both
// follow carrier, which the kernel's linkwatch reports up to a second
// late. Compare two Topology readings to prove that a call changed
// nothing, without racing the kernel.
func (n Netns) Topology(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, what := range [][]string{{"-o", "link", "show"}, {"-o", "addr", "show"}, {"route", "show"}, {"-6", "route", "show"}} {
		for _, line := range strings.Split(Run(t, append([]string{"ip", "-n", n.Name}, what...)...), "\n") {
			if strings.Contains(line, " fe80:") || strings.HasPrefix(line, "fe80:") {
				continue
			}
			b.WriteString(operState.ReplaceAllString(line, " ") + "\n")
		}
	}
	return b.String()
}

var operState = regexp.MustCompile(` state [A-Z]+ `)
