package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// node lays out a fake image (src, template) and a fake node (dest, conf dir).
func node(t *testing.T) options {
	t.Helper()
	root := t.TempDir()
	o := options{
		src: filepath.Join(root, "image-bin"), dest: filepath.Join(root, "opt-cni-bin"),
		confTemplate: filepath.Join(root, "tmpl"), confDir: filepath.Join(root, "net.d"),
		confName: "10-netsteer.conflist", podCIDR: "10.244.7.0/24",
	}
	for _, d := range []string{o.src, o.dest, o.confDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(o.src, "vethbridge"), "v1", 0o755)
	writeFile(t, filepath.Join(o.src, "host-local"), "h1", 0o755)
	writeFile(t, o.confTemplate, `{"cniVersion":"1.0.0","name":"netsteer","plugins":[{"type":"vethbridge","ipam":{"type":"host-local","ranges":[[{"subnet":"{{.PodCIDR}}"}]]}}]}`, 0o644)
	return o
}

func TestRun(t *testing.T) {
	o := node(t)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	want := "host-local: installed\nvethbridge: installed\n" + filepath.Join(o.confDir, o.confName) + ": written (pod CIDR 10.244.7.0/24)\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
	conf, err := os.ReadFile(filepath.Join(o.confDir, o.confName))
	if err != nil || !strings.Contains(string(conf), `"subnet":"10.244.7.0/24"`) {
		t.Errorf("conflist = %s, %v", conf, err)
	}

	stdout.Reset()
	if err := run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("second run: %v", err)
	}
	want = "host-local: unchanged\nvethbridge: unchanged\n" + filepath.Join(o.confDir, o.confName) + ": unchanged (pod CIDR 10.244.7.0/24)\n"
	if stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("second run stdout:\n%s\nwant:\n%s\nstderr: %s", stdout.String(), want, stderr.String())
	}
}

// TestRunBadInputChangesNothing: every input error is found before the node
// is touched.
func TestRunBadInputChangesNothing(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*options)
		wantErr string
	}{
		{"bad CIDR", func(o *options) { o.podCIDR = "10.244.7.1/24" }, "host bits"},
		{"bad template", func(o *options) { writeFile(t, o.confTemplate, `{"name":`, 0o644) }, "not JSON"},
		{"missing template", func(o *options) { o.confTemplate += ".absent" }, "reading conflist template"},
		{"missing binary", func(o *options) { o.binaries = []string{"ipvlan"} }, "reading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := node(t)
			tt.edit(&o)
			err := run(context.Background(), o, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run = %v, want error containing %q", err, tt.wantErr)
			}
			for _, dir := range []string{o.dest, o.confDir} {
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("%s not empty after a failed run: %v", dir, entries)
				}
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(options) bool
		wantErr string
	}{
		{"cidr from env", nil, map[string]string{"NETSTEER_POD_CIDR": "10.1.0.0/24"}, func(o options) bool { return o.podCIDR == "10.1.0.0/24" }, ""},
		{"node from env", nil, map[string]string{"NODE_NAME": "n1"}, func(o options) bool { return o.node == "n1" && o.podCIDR == "" }, ""},
		{"flag beats env", []string{"-pod-cidr", "10.2.0.0/24"}, map[string]string{"NETSTEER_POD_CIDR": "10.1.0.0/24"}, func(o options) bool { return o.podCIDR == "10.2.0.0/24" }, ""},
		{"binaries list", []string{"-pod-cidr", "10.2.0.0/24", "-binaries", "vethbridge,portmap"}, nil, func(o options) bool { return strings.Join(o.binaries, " ") == "vethbridge portmap" }, ""},
		{"neither cidr nor node", nil, nil, nil, "need -pod-cidr"},
		{"conf name with dir", []string{"-pod-cidr", "10.2.0.0/24", "-conf-name", "../x.conflist"}, nil, nil, "plain file name"},
		{"conf name not conflist", []string{"-pod-cidr", "10.2.0.0/24", "-conf-name", "x.conf"}, nil, nil, "ending in .conflist"},
		{"stray argument", []string{"-pod-cidr", "10.2.0.0/24", "extra"}, nil, nil, "unexpected arguments"},
		{"no cluster prefix: nothing to derive", []string{"-pod-cidr", "10.2.0.0/24"}, nil, func(o options) bool { return o.noMasq == nil }, ""},
		{"cluster prefix and extra from env", []string{"-pod-cidr", "10.2.0.0/24"}, map[string]string{"NETSTEER_CLUSTER_PREFIX": "16", "NETSTEER_NO_MASQUERADE_EXTRA": "10.96.0.0/12, fd00:96::/112"},
			func(o options) bool {
				return o.noMasq != nil && o.noMasq.Bits4 == 16 && o.noMasq.Bits6 == 0 && len(o.noMasq.Extra) == 2 && o.noMasq.Extra[1].String() == "fd00:96::/112"
			}, ""},
		{"cluster prefix not a number", []string{"-pod-cidr", "10.2.0.0/24"}, map[string]string{"NETSTEER_CLUSTER_PREFIX": "/16"}, nil, "-cluster-prefix -1"},
		{"cluster prefix too short", []string{"-pod-cidr", "10.2.0.0/24", "-cluster-prefix", "4"}, nil, nil, "-cluster-prefix 4: want 8 to 32"},
		{"cluster prefix6 too long", []string{"-pod-cidr", "10.2.0.0/24", "-cluster-prefix6", "129"}, nil, nil, "-cluster-prefix6 129"},
		{"extra with host bits", []string{"-pod-cidr", "10.2.0.0/24", "-cluster-prefix", "16", "-no-masquerade-extra", "10.96.0.1/12"}, nil, nil, `-no-masquerade-extra "10.96.0.1/12"`},
		{"extra default route", []string{"-pod-cidr", "10.2.0.0/24", "-cluster-prefix", "16", "-no-masquerade-extra", "0.0.0.0/0"}, nil, nil, `-no-masquerade-extra "0.0.0.0/0"`},
		{"extra without a prefix", []string{"-pod-cidr", "10.2.0.0/24", "-no-masquerade-extra", "10.96.0.0/12"}, nil, nil, "needs -cluster-prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, env(tt.env), &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(o) {
				t.Fatalf("parseFlags = %+v, %v", o, err)
			}
		})
	}
}
