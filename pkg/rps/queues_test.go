package rps

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeSysfs writes files (path relative to the root -> content) into a temp
// dir and returns its path.
func fakeSysfs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// deviceFiles returns the queue files of a device with rx receive and tx
// transmit queues in their boot state.
func deviceFiles(dev string, rx, tx int) map[string]string {
	files := map[string]string{}
	base := "class/net/" + dev + "/queues/"
	for i := range rx {
		q := base + "rx-" + strconv.Itoa(i) + "/"
		files[q+"rps_cpus"] = "0\n"
		files[q+"rps_flow_cnt"] = "0\n"
	}
	for i := range tx {
		q := base + "tx-" + strconv.Itoa(i) + "/"
		files[q+"xps_cpus"] = "0\n"
		files[q+"tx_maxrate"] = "0\n"
	}
	return files
}

// renderTree renders every file under root as sorted "path: content" lines,
// so a test compares the whole fake world at once.
func renderTree(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		lines = append(lines, filepath.ToSlash(rel)+": "+strings.TrimSuffix(string(b), "\n"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		rx, tx   int
		settings Settings
		want     string
	}{
		{
			name: "one rx queue", rx: 1, tx: 1,
			settings: Settings{CPUs: MaskOf(0, 1)},
			want: `class/net/veth0/queues/rx-0/rps_cpus: 3
class/net/veth0/queues/rx-0/rps_flow_cnt: 0
class/net/veth0/queues/tx-0/tx_maxrate: 0
class/net/veth0/queues/tx-0/xps_cpus: 0
`,
		},
		{
			name: "four rx queues with flow count", rx: 4, tx: 2,
			settings: Settings{CPUs: MaskOf(1, 32), FlowCount: 4096},
			want: `class/net/veth0/queues/rx-0/rps_cpus: 1,00000002
class/net/veth0/queues/rx-0/rps_flow_cnt: 4096
class/net/veth0/queues/rx-1/rps_cpus: 1,00000002
class/net/veth0/queues/rx-1/rps_flow_cnt: 4096
class/net/veth0/queues/rx-2/rps_cpus: 1,00000002
class/net/veth0/queues/rx-2/rps_flow_cnt: 4096
class/net/veth0/queues/rx-3/rps_cpus: 1,00000002
class/net/veth0/queues/rx-3/rps_flow_cnt: 4096
class/net/veth0/queues/tx-0/tx_maxrate: 0
class/net/veth0/queues/tx-0/xps_cpus: 0
class/net/veth0/queues/tx-1/tx_maxrate: 0
class/net/veth0/queues/tx-1/xps_cpus: 0
`,
		},
		{
			name: "zero mask turns rps off", rx: 1, tx: 0,
			settings: Settings{},
			want: `class/net/veth0/queues/rx-0/rps_cpus: 0
class/net/veth0/queues/rx-0/rps_flow_cnt: 0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := deviceFiles("veth0", tt.rx, tt.tx)
			// Another device that must stay as it is.
			files["class/net/veth1/queues/rx-0/rps_cpus"] = "0\n"
			root := fakeSysfs(t, files)
			if err := Apply(root, "veth0", tt.settings); err != nil {
				t.Fatal(err)
			}
			want := tt.want + "class/net/veth1/queues/rx-0/rps_cpus: 0\n"
			if got := renderTree(t, root); got != want {
				t.Errorf("after Apply:\n%s\nwant:\n%s", got, want)
			}
			state, err := Read(root, "veth0")
			if err != nil {
				t.Fatal(err)
			}
			if len(state) != tt.rx {
				t.Errorf("Read found %d queues, want %d: %v", len(state), tt.rx, state)
			}
			for q, s := range state {
				if s != tt.settings.Effective() {
					t.Errorf("Read()[%s] = {%s %d}, want {%s %d}", q, s.CPUs, s.FlowCount, tt.settings.CPUs, tt.settings.FlowCount)
				}
			}
		})
	}
}

func TestApplyKeepsFlowCountWhenZero(t *testing.T) {
	files := deviceFiles("veth0", 2, 0)
	files["class/net/veth0/queues/rx-1/rps_flow_cnt"] = "256\n"
	root := fakeSysfs(t, files)
	if err := Apply(root, "veth0", Settings{CPUs: MaskOf(0)}); err != nil {
		t.Fatal(err)
	}
	state, err := Read(root, "veth0")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Settings{
		"rx-0": {CPUs: MaskOf(0)},
		"rx-1": {CPUs: MaskOf(0), FlowCount: 256},
	}
	if len(state) != len(want) || state["rx-0"] != want["rx-0"] || state["rx-1"] != want["rx-1"] {
		t.Errorf("Read = %v, want %v", state, want)
	}
}

func TestApplyQueueOrder(t *testing.T) {
	// rx-10 sorts before rx-2 as text; the first failing queue must be the
	// lowest-numbered one, so errors are stable.
	files := map[string]string{}
	for _, q := range []string{"rx-2", "rx-10"} {
		files["class/net/veth0/queues/"+q+"/rps_flow_cnt"] = "0\n"
	}
	root := fakeSysfs(t, files)
	err := Apply(root, "veth0", Settings{CPUs: MaskOf(0)})
	if err == nil || !strings.Contains(err.Error(), "queue rx-2:") {
		t.Errorf("Apply = %v, want the error to name queue rx-2", err)
	}
}

func TestApplyErrors(t *testing.T) {
	files := deviceFiles("veth0", 2, 1)
	for k, v := range deviceFiles("txonly", 0, 2) {
		files[k] = v
	}
	files["class/net/noflow/queues/rx-0/rps_cpus"] = "0\n"
	files["class/net/queuefile/queues/rx-0"] = "not a directory\n"
	tests := []struct {
		name, root, dev string
		settings        Settings
		want            []string // substrings of the error
		notExist        bool
		partial         bool // Apply may have written some files before failing
		readable        bool // Read works although Apply fails
	}{
		{name: "missing device", dev: "veth9", want: []string{"device veth9", "device not found"}, notExist: true},
		{name: "only tx queues", dev: "txonly", want: []string{"device txonly", "no receive queues"}},
		{name: "rx-N is a file", dev: "queuefile", want: []string{"no receive queues"}},
		{
			name: "missing rps_flow_cnt is not created", dev: "noflow", settings: Settings{CPUs: MaskOf(0), FlowCount: 8},
			want: []string{"rps_flow_cnt=8", "device noflow", "queue rx-0", "rx-0/rps_flow_cnt"}, notExist: true, partial: true,
		},
		{name: "negative flow count", dev: "veth0", settings: Settings{FlowCount: -1}, want: []string{"negative flow count -1"}, readable: true},
		{name: "empty root", root: "-", dev: "veth0", want: []string{"sysfs root is not set"}},
		{name: "empty device", dev: "", want: []string{`invalid device name ""`}},
		{name: "dot device", dev: ".", want: []string{`invalid device name "."`}},
		{name: "dotdot device", dev: "..", want: []string{`invalid device name ".."`}},
		{name: "slash device", dev: "../../../etc", want: []string{"invalid device name", `"/"`}},
		{name: "long device", dev: "sixteen-bytes-xx", want: []string{"longer than 15 bytes"}},
		{name: "colon device", dev: "eth0:1", want: []string{`":"`}},
		{name: "space device", dev: "eth 0", want: []string{"whitespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fakeSysfs(t, files)
			before := renderTree(t, root)
			sysRoot := root
			if tt.root == "-" {
				sysRoot = ""
			}
			err := Apply(sysRoot, tt.dev, tt.settings)
			if err == nil {
				t.Fatalf("Apply(%q) = nil, want error", tt.dev)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.notExist && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v does not wrap fs.ErrNotExist", err)
			}
			after := renderTree(t, root)
			if !tt.partial && after != before {
				t.Errorf("failed Apply changed the tree:\n%s\nwant:\n%s", after, before)
			}
			if _, err := Read(sysRoot, tt.dev); (err == nil) != tt.readable {
				t.Errorf("Read(%q) error = %v, want error: %v", tt.dev, err, !tt.readable)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			name:  "garbage rps_cpus",
			files: map[string]string{"class/net/veth0/queues/rx-0/rps_cpus": "zz\n", "class/net/veth0/queues/rx-0/rps_flow_cnt": "0\n"},
			want:  `reading rps of device veth0 queue rx-0: rps_cpus: cpu mask "zz\n" (read as kernel hex mask)`,
		},
		{
			name:  "garbage rps_flow_cnt",
			files: map[string]string{"class/net/veth0/queues/rx-0/rps_cpus": "0\n", "class/net/veth0/queues/rx-0/rps_flow_cnt": "many\n"},
			want:  `reading rps of device veth0 queue rx-0: rps_flow_cnt: strconv.Atoi: parsing "many"`,
		},
		{
			name:  "missing rps_flow_cnt",
			files: map[string]string{"class/net/veth0/queues/rx-0/rps_cpus": "0\n"},
			want:  "reading rps of device veth0 queue rx-0: open ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(fakeSysfs(t, tt.files), "veth0")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	tests := []struct{ in, want int }{
		{0, 0}, {1, 1}, {2, 2}, {3, 4}, {100, 128}, {128, 128}, {129, 256}, {32768, 32768},
	}
	for _, tt := range tests {
		s := Settings{CPUs: MaskOf(1), FlowCount: tt.in}.Effective()
		if s.FlowCount != tt.want || s.CPUs != MaskOf(1) {
			t.Errorf("Settings{FlowCount: %d}.Effective() = {%s %d}, want FlowCount %d and CPUs unchanged", tt.in, s.CPUs, s.FlowCount, tt.want)
		}
	}
}

func TestPossibleCPUs(t *testing.T) {
	tests := []struct {
		content string
		want    int
		err     string
	}{
		{content: "0-1\n", want: 2},
		{content: "0\n", want: 1},
		{content: "0-3,8-11\n", want: 12},
		{content: "0-63\n", want: 64},
		{content: "", err: "is empty"},
		{content: "\n", err: "is empty"},
		{content: "0-x\n", err: `cpu mask "0-x" (read as CPU list)`},
		{content: "3-0\n", err: "runs backwards"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.content), func(t *testing.T) {
			root := fakeSysfs(t, map[string]string{"devices/system/cpu/possible": tt.content})
			n, err := PossibleCPUs(root)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("PossibleCPUs(%q) = %d, %v; want error containing %q", tt.content, n, err, tt.err)
				}
				return
			}
			if err != nil || n != tt.want {
				t.Errorf("PossibleCPUs(%q) = %d, %v; want %d", tt.content, n, err, tt.want)
			}
		})
	}
	if _, err := PossibleCPUs(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("PossibleCPUs without the file = %v, want a not-exist error", err)
	}
	if _, err := PossibleCPUs(""); err == nil {
		t.Errorf("PossibleCPUs(\"\") = nil error")
	}
}

func TestPossibleCPUsOfThisMachine(t *testing.T) {
	raw, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		t.Fatalf("this test needs sysfs at /sys: %v", err)
	}
	n, err := PossibleCPUs("/sys")
	if err != nil {
		t.Fatal(err)
	}
	// The kernel's own list must name CPU n-1 and nothing above it. The
	// appended ",0-0" makes Parse read even a lone "0" as a list, not hex.
	m, err := Parse(strings.TrimSpace(string(raw))+",0-0", n)
	if err != nil {
		t.Fatalf("possible list %q does not fit in %d CPUs: %v", raw, n, err)
	}
	if got := m.highest(); got != n-1 {
		t.Errorf("PossibleCPUs = %d but the highest possible CPU in %q is %d", n, raw, got)
	}
}
