package sysctl

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeProc builds a /proc/sys-like tree under a temp dir. Files hold the
// value followed by a newline, as the kernel prints it. Paths ending in "/"
// are empty directories; the value "w/o" makes a write-only file.
func fakeProc(t *testing.T, files map[string]string) FS {
	t.Helper()
	root := t.TempDir()
	for name, value := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := fs.FileMode(0o644)
		if value == "w/o" {
			mode, value = 0o200, ""
		}
		if err := os.WriteFile(p, []byte(value+"\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	return FS{Root: root}
}

func mustKey(t *testing.T, s string) Key {
	t.Helper()
	k, err := ParseKey(s, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keyStrings renders keys for comparison in test failures.
func keyStrings(keys []Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.String())
	}
	return out
}

var hostTree = map[string]string{
	"net/ipv4/tcp_keepalive_time":               "600",
	"net/ipv4/tcp_keepalive_intvl":              "75",
	"net/ipv4/tcp_keepalive_probes":             "9",
	"net/ipv4/tcp_rmem":                         "4096\t131072\t6291456",
	"net/ipv4/ip_forward":                       "1",
	"net/ipv4/route/flush":                      "w/o",
	"net/ipv4/route/gc_timeout":                 "300",
	"net/ipv4/conf/eth0.100/rp_filter":          "2",
	"net/ipv4/conf/eth0.100/accept_redirects":   "0",
	"net/ipv4/conf/eth0/rp_filter":              "1",
	"net/ipv4/conf/all/":                        "",
	"net/ipv6/conf/eth0.100/disable_ipv6":       "0",
	"net/core/somaxconn":                        "4096",
	"net/core/rps_sock_flow_entries":            "0",
	"net/ipv4/neigh/eth0.100/gc_stale_time":     "60",
	"net/ipv4/neigh/default/gc_thresh1":         "128",
	"net/ipv4/tcp_keepalive_dir_not_a_setting/": "",
}

func TestFSRead(t *testing.T) {
	proc := fakeProc(t, hostTree)
	tests := []struct{ key, want string }{
		{"net.ipv4.tcp_keepalive_time", "600"},
		{"net.ipv4.tcp_rmem", "4096\t131072\t6291456"},
		{"net.ipv4.conf.eth0.100.rp_filter", "2"},
		{"net/ipv4/conf/eth0/rp_filter", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := proc.Read(mustKey(t, tt.key))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Read = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFSReadMissing(t *testing.T) {
	proc := fakeProc(t, hostTree)
	_, err := proc.Read(mustKey(t, "net.ipv4.no_such_key"))
	var perr *os.PathError
	if !errors.As(err, &perr) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read(missing) error = %v, want a wrapped *os.PathError for a missing file", err)
	}
	if !strings.Contains(err.Error(), "net.ipv4.no_such_key") {
		t.Errorf("error %q does not name the key", err)
	}
}

func TestFSWrite(t *testing.T) {
	tests := []struct{ key, value string }{
		{"net.ipv4.tcp_keepalive_time", "7"}, // shorter than the old "600": must not leave "700"
		{"net.ipv4.tcp_keepalive_time", "123456"},
		{"net.ipv4.tcp_rmem", "4096\t87380\t6291456"},
		{"net.ipv4.conf.eth0.100.rp_filter", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			proc := fakeProc(t, hostTree)
			k := mustKey(t, tt.key)
			if err := proc.Write(k, tt.value); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(proc.Root, k.Path()))
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tt.value {
				t.Errorf("file holds %q, want %q", raw, tt.value)
			}
			got, err := proc.Read(k)
			if err != nil || got != tt.value {
				t.Errorf("Read after Write = %q, %v; want %q", got, err, tt.value)
			}
		})
	}
}

func TestFSWriteErrors(t *testing.T) {
	tests := []struct {
		name, key, value string
		want             string // substring of the error
		notExist         bool   // error must wrap fs.ErrNotExist and *os.PathError
	}{
		{name: "missing key is not created", key: "net.ipv4.no_such_key", value: "1", want: "net.ipv4.no_such_key", notExist: true},
		{name: "missing interface", key: "net.ipv4.conf.eth9.rp_filter", value: "1", want: "net.ipv4.conf.eth9.rp_filter", notExist: true},
		{name: "newline in value", key: "net.ipv4.ip_forward", value: "1\n0", want: "newline"},
		{name: "empty value", key: "net.ipv4.ip_forward", value: "", want: "empty"},
		{name: "directory", key: "net.ipv4.conf.all", value: "1", want: "net.ipv4.conf.all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := fakeProc(t, hostTree)
			k := mustKey(t, tt.key)
			err := proc.Write(k, tt.value)
			if err == nil {
				t.Fatalf("Write(%s, %q) = nil, want error", tt.key, tt.value)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			var perr *os.PathError
			if tt.notExist && (!errors.Is(err, fs.ErrNotExist) || !errors.As(err, &perr)) {
				t.Errorf("error %v does not wrap a not-exist *os.PathError", err)
			}
			if _, statErr := os.Stat(filepath.Join(proc.Root, k.Path())); tt.notExist && statErr == nil {
				t.Errorf("Write created %s", k.Path())
			}
		})
	}
}

func TestFSEmptyRoot(t *testing.T) {
	k := mustKey(t, "net.ipv4.ip_forward")
	if _, err := (FS{}).Read(k); err == nil || !strings.Contains(err.Error(), "root is not set") {
		t.Errorf("Read with empty root = %v, want a root error", err)
	}
	if err := (FS{}).Write(k, "1"); err == nil || !strings.Contains(err.Error(), "root is not set") {
		t.Errorf("Write with empty root = %v, want a root error", err)
	}
	if err := (FS{Root: t.TempDir()}).Write(Key{}, "1"); err == nil || !strings.Contains(err.Error(), "zero sysctl key") {
		t.Errorf("Write of zero key = %v, want a zero key error", err)
	}
}

func TestFSGlob(t *testing.T) {
	proc := fakeProc(t, hostTree)
	tests := []struct {
		pattern string
		want    []string
	}{
		{"net.ipv4.tcp_keepalive_*", []string{"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time"}},
		{"net.ipv4.tcp_keepalive_?????", []string{"net.ipv4.tcp_keepalive_intvl"}},
		{"net.ipv4.tcp_keepalive_[pt]*", []string{"net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time"}},
		{"net.ipv4.tcp_keepalive_time", []string{"net.ipv4.tcp_keepalive_time"}},
		{"net.ipv4.conf.eth0.100.*", []string{"net/ipv4/conf/eth0.100/accept_redirects", "net/ipv4/conf/eth0.100/rp_filter"}},
		{"net/ipv4/conf/eth0.100/rp_*", []string{"net/ipv4/conf/eth0.100/rp_filter"}},
		// Write-only triggers are not settings.
		{"net.ipv4.route.*", []string{"net.ipv4.route.gc_timeout"}},
		// Directories are not settings.
		{"net.ipv4.conf.*.rp_filter", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			keys, err := proc.Glob(tt.pattern)
			if tt.want == nil {
				if !errors.Is(err, ErrNoMatch) {
					t.Fatalf("Glob(%q) = %q, %v; want ErrNoMatch", tt.pattern, keyStrings(keys), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := keyStrings(keys); !slices.Equal(got, tt.want) {
				t.Errorf("Glob(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestFSGlobErrors(t *testing.T) {
	proc := fakeProc(t, hostTree)
	tests := []struct {
		pattern   string
		noMatch   bool
		mentioned string
	}{
		{pattern: "net.ipv4.tcp_nothing_*", noMatch: true},
		{pattern: "net.ipv4.tcp_keepalive_dir_not_a_setting", noMatch: true},
		{pattern: "net.ipv4.conf.all", noMatch: true},
		{pattern: "net.nosuchdir.*", noMatch: true},
		{pattern: "net.ipv4.conf.eth9.*", noMatch: true},
		{pattern: "net.ipv4.tcp_[", mentioned: "syntax error in pattern"},
		{pattern: "kernel.*", mentioned: "must start with net"},
		{pattern: "net/../*", mentioned: `contains ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			keys, err := proc.Glob(tt.pattern)
			if err == nil {
				t.Fatalf("Glob(%q) = %q, want error", tt.pattern, keyStrings(keys))
			}
			if errors.Is(err, ErrNoMatch) != tt.noMatch {
				t.Errorf("errors.Is(%v, ErrNoMatch) = %v, want %v", err, !tt.noMatch, tt.noMatch)
			}
			if !strings.Contains(err.Error(), tt.pattern) {
				t.Errorf("error %q does not name the pattern", err)
			}
			if !strings.Contains(err.Error(), tt.mentioned) {
				t.Errorf("error %q does not mention %q", err, tt.mentioned)
			}
		})
	}
}

func TestInherit(t *testing.T) {
	host := fakeProc(t, hostTree)
	tests := []struct {
		name     string
		patterns []string
		ifname   string
		want     map[string]string // key.String() -> value
	}{
		{
			name:     "keepalive glob",
			patterns: []string{"net.ipv4.tcp_keepalive_*"},
			want: map[string]string{
				"net.ipv4.tcp_keepalive_intvl":  "75",
				"net.ipv4.tcp_keepalive_probes": "9",
				"net.ipv4.tcp_keepalive_time":   "600",
			},
		},
		{
			name:     "literal keys and tabs kept",
			patterns: []string{"net.core.somaxconn", "net.ipv4.tcp_rmem"},
			want: map[string]string{
				"net.core.somaxconn": "4096",
				"net.ipv4.tcp_rmem":  "4096\t131072\t6291456",
			},
		},
		{
			name:     "IFNAME with dots",
			patterns: []string{"net.ipv4.conf.IFNAME.*", "net.ipv6.conf.IFNAME.disable_ipv6", "net.ipv4.neigh.IFNAME.gc_stale_time"},
			ifname:   "eth0.100",
			want: map[string]string{
				"net/ipv4/conf/eth0.100/accept_redirects": "0",
				"net/ipv4/conf/eth0.100/rp_filter":        "2",
				"net/ipv6/conf/eth0.100/disable_ipv6":     "0",
				"net/ipv4/neigh/eth0.100/gc_stale_time":   "60",
			},
		},
		{
			name:     "overlapping patterns",
			patterns: []string{"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_t*"},
			want:     map[string]string{"net.ipv4.tcp_keepalive_time": "600"},
		},
		{name: "no patterns", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inherit(host, tt.patterns, tt.ifname)
			if err != nil {
				t.Fatal(err)
			}
			rendered := map[string]string{}
			for k, v := range got {
				rendered[k.String()] = v
			}
			if len(rendered) != len(tt.want) {
				t.Errorf("Inherit = %q, want %q", rendered, tt.want)
			}
			for k, v := range tt.want {
				if rendered[k] != v {
					t.Errorf("Inherit[%s] = %q, want %q (all: %q)", k, rendered[k], v, rendered)
				}
			}
		})
	}
}

func TestInheritErrors(t *testing.T) {
	host := fakeProc(t, hostTree)
	tests := []struct {
		name     string
		patterns []string
		ifname   string
		want     string // substring naming the culprit
		noMatch  bool
	}{
		{name: "no match", patterns: []string{"net.ipv4.tcp_keepalive_*", "net.ipv4.tcp_nothing_*"}, want: `"net.ipv4.tcp_nothing_*"`, noMatch: true},
		{name: "missing literal", patterns: []string{"net.ipv4.gone"}, want: `"net.ipv4.gone"`, noMatch: true},
		{name: "interface absent on host", patterns: []string{"net.ipv4.conf.IFNAME.rp_filter"}, ifname: "eth1", want: `"net.ipv4.conf.IFNAME.rp_filter"`, noMatch: true},
		{name: "IFNAME without ifname", patterns: []string{"net.ipv4.conf.IFNAME.rp_filter"}, want: "no interface name"},
		{name: "outside net", patterns: []string{"kernel.pid_max"}, want: `"kernel.pid_max"`},
		{name: "escape through ifname", patterns: []string{"net.ipv4.conf.IFNAME.rp_filter"}, ifname: "../..", want: `contains ".."`},
		{name: "slash in ifname", patterns: []string{"net.ipv4.conf.IFNAME.rp_filter"}, ifname: "x/y", want: `contains "/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inherit(host, tt.patterns, tt.ifname)
			if err == nil {
				t.Fatalf("Inherit = %v, want error", got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %s", err, tt.want)
			}
			if errors.Is(err, ErrNoMatch) != tt.noMatch {
				t.Errorf("errors.Is(%v, ErrNoMatch) = %v, want %v", err, !tt.noMatch, tt.noMatch)
			}
		})
	}
}

func TestInheritUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root reads files regardless of their mode, so a permission error
		// cannot be staged with a temp dir here.
		t.Skip("skipping: running as root, which bypasses the file mode this test relies on")
	}
	host := fakeProc(t, hostTree)
	p := filepath.Join(host.Root, "net/core/somaxconn")
	if err := os.Chmod(p, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(p), 0o300); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Dir(p), 0o755) })
	_, err := Inherit(host, []string{"net.core.somaxconn"}, "")
	if err == nil || !strings.Contains(err.Error(), "net.core.somaxconn") {
		t.Errorf("Inherit of unlistable dir = %v, want error naming the key", err)
	}
}

func TestWriteSettingsInOrderAndReadKeys(t *testing.T) {
	fsys := fakeProc(t, map[string]string{"net/ipv4/tcp_keepalive_time": "7200", "net/ipv4/tcp_keepalive_intvl": "75"})
	k1, _ := ParseKey("net.ipv4.tcp_keepalive_time", "eth0")
	k2, _ := ParseKey("net.ipv4.tcp_keepalive_intvl", "eth0")
	if err := fsys.WriteSettings([]Setting{{Key: k1, Value: "1"}, {Key: k1, Value: "600"}, {Key: k2, Value: "30"}}); err != nil {
		t.Fatal(err)
	}
	got, err := fsys.ReadKeys([]Key{k1, k2})
	if err != nil || got[k1] != "600" || got[k2] != "30" {
		t.Errorf("ReadKeys = %v, %v; want the last written values 600 and 30", got, err)
	}
	missing, _ := ParseKey("net.ipv4.tcp_fin_timeout", "eth0")
	err = fsys.WriteSettings([]Setting{{Key: missing, Value: "5"}})
	if err == nil || !strings.Contains(err.Error(), "tcp_fin_timeout") || !strings.Contains(err.Error(), `"5"`) {
		t.Errorf("writing a missing key = %v, want an error naming the key and value", err)
	}
}
