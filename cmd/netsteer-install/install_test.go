package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listDir renders a directory as sorted "name mode content" lines, so a
// whole install outcome compares as text.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	var lines []string
	for _, e := range entries {
		if e.Name() == recordName {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatalf("stat %s: %v", e.Name(), err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("reading %s: %v", e.Name(), err)
		}
		lines = append(lines, e.Name()+" "+info.Mode().Perm().String()+" "+string(data))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

func bins(pairs ...string) []binary {
	var out []binary
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, binary{name: pairs[i], data: []byte(pairs[i+1]), mode: 0o755})
	}
	return out
}

func TestInstallBinaries(t *testing.T) {
	tests := []struct {
		name       string
		before     map[string]string // files in dest before the run
		ours       map[string]string // content we recorded installing
		install    []binary
		wantDir    string
		wantOut    map[string]outcome
		wantStderr []string // substrings, one per foreign binary
	}{
		{
			name:    "fresh node",
			install: bins("vethbridge", "v1", "host-local", "h1"),
			wantDir: "host-local -rwxr-xr-x h1\nvethbridge -rwxr-xr-x v1",
			wantOut: map[string]outcome{"vethbridge": installed, "host-local": installed},
		},
		{
			name:    "same content is not rewritten",
			before:  map[string]string{"vethbridge": "v1"},
			ours:    map[string]string{"vethbridge": "v1"},
			install: bins("vethbridge", "v1"),
			wantDir: "vethbridge -rwxr-xr-x v1",
			wantOut: map[string]outcome{"vethbridge": unchanged},
		},
		{
			name:    "identical foreign file needs no backup",
			before:  map[string]string{"loopback": "l1"},
			install: bins("loopback", "l1"),
			wantDir: "loopback -rwxr-xr-x l1",
			wantOut: map[string]outcome{"loopback": unchanged},
		},
		{
			name:    "our older version is updated without backup",
			before:  map[string]string{"vethbridge": "v1"},
			ours:    map[string]string{"vethbridge": "v1"},
			install: bins("vethbridge", "v2"),
			wantDir: "vethbridge -rwxr-xr-x v2",
			wantOut: map[string]outcome{"vethbridge": updated},
		},
		{
			name:       "foreign binary is kept as backup",
			before:     map[string]string{"host-local": "distro", "bridge": "untouched"},
			install:    bins("host-local", "ours"),
			wantDir:    "bridge -rwxr-xr-x untouched\nhost-local -rwxr-xr-x ours\nhost-local.netsteer-backup -rwxr-xr-x distro",
			wantOut:    map[string]outcome{"host-local": replacedForeign},
			wantStderr: []string{"host-local is not a binary netsteer installed; keeping it as"},
		},
		{
			name:       "binary changed after we installed it counts as foreign",
			before:     map[string]string{"portmap": "patched by hand"},
			ours:       map[string]string{"portmap": "p1"},
			install:    bins("portmap", "p2"),
			wantDir:    "portmap -rwxr-xr-x p2\nportmap.netsteer-backup -rwxr-xr-x patched by hand",
			wantOut:    map[string]outcome{"portmap": replacedForeign},
			wantStderr: []string{"portmap is not a binary netsteer installed"},
		},
		{
			name:       "an older backup is replaced and that is said",
			before:     map[string]string{"portmap": "foreign2", "portmap.netsteer-backup": "foreign1"},
			install:    bins("portmap", "p1"),
			wantDir:    "portmap -rwxr-xr-x p1\nportmap.netsteer-backup -rwxr-xr-x foreign2",
			wantOut:    map[string]outcome{"portmap": replacedForeign},
			wantStderr: []string{"replacing the previous backup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			for name, data := range tt.before {
				writeFile(t, filepath.Join(dest, name), data, 0o755)
			}
			if tt.ours != nil {
				rec := record{Files: map[string]string{}}
				for name, data := range tt.ours {
					rec.Files[name] = digest([]byte(data))
				}
				data, _ := json.Marshal(rec)
				writeFile(t, filepath.Join(dest, recordName), string(data), 0o644)
			}
			var stderr bytes.Buffer
			got, err := installer{dest: dest, log: &stderr}.installBinaries(tt.install)
			if err != nil {
				t.Fatalf("installBinaries: %v", err)
			}
			if summary(got) != summary(tt.wantOut) {
				t.Errorf("outcomes:\n%s\nwant:\n%s", summary(got), summary(tt.wantOut))
			}
			if dir := listDir(t, dest); dir != tt.wantDir {
				t.Errorf("dest after install:\n%s\nwant:\n%s", dir, tt.wantDir)
			}
			lines := strings.Count(stderr.String(), "\n")
			if lines != len(tt.wantStderr) {
				t.Errorf("stderr has %d lines, want %d:\n%s", lines, len(tt.wantStderr), stderr.String())
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}

			// A second run with the same input is a no-op: everything
			// unchanged, no new backup, nothing said.
			stderr.Reset()
			before := listDir(t, dest)
			again, err := installer{dest: dest, log: &stderr}.installBinaries(tt.install)
			if err != nil {
				t.Fatalf("second installBinaries: %v", err)
			}
			for name, out := range again {
				if out != unchanged {
					t.Errorf("second run: %s %s, want unchanged", name, out)
				}
			}
			if after := listDir(t, dest); after != before || stderr.Len() != 0 {
				t.Errorf("second run changed dest or spoke:\n%s\nstderr: %s", after, stderr.String())
			}
		})
	}
}

func TestInstallRestoresMode(t *testing.T) {
	dest := t.TempDir()
	writeFile(t, filepath.Join(dest, "vethbridge"), "v1", 0o644)
	_, err := installer{dest: dest, log: &bytes.Buffer{}}.installBinaries(bins("vethbridge", "v1"))
	if err != nil {
		t.Fatalf("installBinaries: %v", err)
	}
	if got := listDir(t, dest); got != "vethbridge -rwxr-xr-x v1" {
		t.Errorf("dest = %q, want the binary executable", got)
	}
}

func TestInstallDamagedRecord(t *testing.T) {
	dest := t.TempDir()
	writeFile(t, filepath.Join(dest, recordName), "{not json", 0o644)
	writeFile(t, filepath.Join(dest, "vethbridge"), "v1", 0o755)
	var stderr bytes.Buffer
	_, err := installer{dest: dest, log: &stderr}.installBinaries(bins("vethbridge", "v2"))
	if err != nil {
		t.Fatalf("installBinaries: %v", err)
	}
	if !strings.Contains(stderr.String(), "ignoring unreadable install record") {
		t.Errorf("stderr does not mention the damaged record: %s", stderr.String())
	}
	// Unknown provenance: treated as foreign, so it is backed up.
	if got := listDir(t, dest); got != "vethbridge -rwxr-xr-x v2\nvethbridge.netsteer-backup -rwxr-xr-x v1" {
		t.Errorf("dest = %q", got)
	}
}

func TestInstallUnwritableDest(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions, so the failure cannot be provoked")
	}
	dest := t.TempDir()
	if err := os.Chmod(dest, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dest, 0o755) })
	_, err := installer{dest: dest, log: &bytes.Buffer{}}.installBinaries(bins("vethbridge", "v1"))
	if err == nil || !strings.Contains(err.Error(), "installing vethbridge") {
		t.Fatalf("installBinaries = %v, want an error naming vethbridge", err)
	}
}

func TestReadBinaries(t *testing.T) {
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "vethbridge"), "v", 0o755)
	writeFile(t, filepath.Join(src, "host-local"), "h", 0o755)
	writeFile(t, filepath.Join(src, ".hidden"), "x", 0o644)
	if err := os.Mkdir(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		names   []string
		want    []string
		wantErr string
	}{
		{"all visible files", nil, []string{"host-local", "vethbridge"}, ""},
		{"selected", []string{"vethbridge"}, []string{"vethbridge"}, ""},
		{"missing", []string{"ipvlan"}, nil, "reading"},
		{"path", []string{"../etc/passwd"}, nil, "not a plain file name"},
		{"hidden", []string{".hidden"}, nil, "not a plain file name"},
		{"empty", []string{""}, nil, "not a plain file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBinaries(src, tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readBinaries = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readBinaries: %v", err)
			}
			var names []string
			for _, b := range got {
				names = append(names, b.name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("names = %v, want %v", names, tt.want)
			}
		})
	}
	if _, err := readBinaries(t.TempDir(), nil); err == nil {
		t.Error("readBinaries of an empty dir succeeded")
	}
}
