package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestParseJoinsContinuationsAndSkipsComments(t *testing.T) {
	got := parse("# c\nFROM scratch AS release\n\nCOPY --from=release /a \\\n /b /c/\nENTRYPOINT [\"/a\"]\n")
	want := []instruction{
		{"FROM", "scratch AS release"},
		{"COPY", "--from=release /a  /b /c/"},
		{"ENTRYPOINT", `["/a"]`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse = %q, want %q", got, want)
	}
}

// tarEntry is one member of a test tarball.
type tarEntry struct {
	name string
	typ  byte
	data string
}

// writeRelease writes name into dir as a gzipped tar of entries and lists
// its sum in dir/<sums>.
func writeRelease(t *testing.T, dir, name, sums string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o755, Size: int64(len(e.data))}
		if e.typ == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = "/etc/passwd", 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil && e.typ == tar.TypeReg {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%x  %s\n", sha256.Sum256(buf.Bytes()), name)
	f, err := os.OpenFile(filepath.Join(dir, sums), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
}

// release is a tarball laid out as scripts/dist.sh lays it out.
func release(version, arch string) []tarEntry {
	root := "netsteer-" + version + "-linux-" + arch + "/"
	var e []tarEntry
	e = append(e, tarEntry{name: root, typ: tar.TypeDir}, tarEntry{name: root + "bin/", typ: tar.TypeDir})
	for _, b := range []string{"vethbridge", "ipvlan", "netsteer", "netsteer-install", "netsteer-agent"} {
		e = append(e, tarEntry{root + "bin/" + b, tar.TypeReg, b + "-" + arch})
	}
	for _, b := range []string{"host-local", "loopback", "portmap"} {
		e = append(e, tarEntry{root + "upstream/" + b, tar.TypeReg, b + "-" + arch})
	}
	return append(e, tarEntry{root + "README.md", tar.TypeReg, "readme"})
}

func shippedContainerfile(t *testing.T) []instruction {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "conf", "kubernetes", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return parse(string(data))
}

// The shipped Containerfile, run against a release laid out as make dist
// lays it out, gives the image daemonset.yaml relies on: the plugins the
// installer copies under /netsteer/bin and nothing else there, the
// commands outside it, each from the tarball of the target architecture.
func TestShippedContainerfileBuildsTheReleaseImage(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			dir := t.TempDir()
			for _, a := range []string{"amd64", "arm64"} {
				writeRelease(t, dir, "netsteer-v9.8.7-linux-"+a+".tar.gz", "netsteer-v9.8.7-SHA256SUMS", release("v9.8.7", a))
			}
			b := newBuilder(dir, arch, map[string]string{"VERSION": "v9.8.7"})
			if err := b.build(shippedContainerfile(t)); err != nil {
				t.Fatal(err)
			}
			img, err := b.image("x/y:z")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{img.Path: string(img.Binary)}
			for _, f := range img.Extra {
				got[f.Path] = string(f.Data)
			}
			want := map[string]string{
				"/netsteer-install":        "netsteer-install-" + arch,
				"/netsteer-agent":          "netsteer-agent-" + arch,
				"/bin/netsteer":            "netsteer-" + arch,
				"/netsteer/bin/vethbridge": "vethbridge-" + arch,
				"/netsteer/bin/ipvlan":     "ipvlan-" + arch,
				"/netsteer/bin/host-local": "host-local-" + arch,
				"/netsteer/bin/loopback":   "loopback-" + arch,
				"/netsteer/bin/portmap":    "portmap-" + arch,
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("image files:\n%v\nwant\n%v", sorted(got), sorted(want))
			}
			if img.Architecture != arch || !reflect.DeepEqual(img.Entrypoint, []string{"/netsteer-install"}) {
				t.Errorf("image %s entrypoint %q, want %s [/netsteer-install]", img.Architecture, img.Entrypoint, arch)
			}
		})
	}
}

func sorted(m map[string]string) string {
	var s []string
	for k, v := range m {
		s = append(s, k+"="+v)
	}
	sort.Strings(s)
	return strings.Join(s, "\n")
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name, containerfile string
		args                map[string]string
		tamper              func(t *testing.T, dir string)
		entries             []tarEntry
		want                string
	}{
		{name: "unknown instruction", containerfile: "FROM scratch\nUSER 1000\n", want: "USER is not supported"},
		{name: "RUN", containerfile: "FROM scratch\nRUN go build ./...\n", want: "RUN is not supported"},
		{name: "base image", containerfile: "FROM golang:1.26 AS build\n", want: "only `FROM scratch"},
		{name: "missing build arg", containerfile: "FROM scratch\nARG VERSION\nADD r-${VERSION}.tar.gz /\n", want: "variable VERSION is not set"},
		{name: "undeclared variable", containerfile: "FROM scratch\nADD r-$VERSION.tar.gz /\n", args: map[string]string{"VERSION": "1"}, want: "variable VERSION is not set"},
		{name: "ARG out of scope after FROM", containerfile: "FROM scratch\nARG VERSION\nFROM scratch\nADD r-${VERSION}.tar.gz /\n", args: map[string]string{"VERSION": "1"}, want: "variable VERSION is not set"},
		{name: "tarball outside the context", containerfile: "FROM scratch\nADD ../r-1.tar.gz /\n", want: "inside the context"},
		{name: "tarball not in any sums file", containerfile: "FROM scratch\nADD r-1.tar.gz /\n",
			tamper: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "SHA256SUMS")) }, want: "no *SHA256SUMS file"},
		{name: "tarball changed after its sum was taken", containerfile: "FROM scratch\nADD r-1.tar.gz /\n",
			tamper: func(t *testing.T, dir string) {
				f, _ := os.OpenFile(filepath.Join(dir, "r-1.tar.gz"), os.O_APPEND|os.O_WRONLY, 0)
				f.WriteString("x")
				f.Close()
			}, want: "does not match"},
		{name: "symlink in the tarball", containerfile: "FROM scratch\nADD r-1.tar.gz /\n",
			entries: []tarEntry{{"bin/x", tar.TypeSymlink, ""}}, want: "not a file or directory"},
		{name: "entry leaving the root", containerfile: "FROM scratch\nADD r-1.tar.gz /\n",
			entries: []tarEntry{{"../../x", tar.TypeReg, "x"}}, want: "leaves the root"},
		{name: "COPY of a missing file", containerfile: "FROM scratch AS r\nADD r-1.tar.gz /\nFROM scratch\nCOPY --from=r /nope /x\n", want: "no such file"},
		{name: "COPY from an unknown stage", containerfile: "FROM scratch\nCOPY --from=r /a /x\n", want: "no stage r"},
		{name: "no entrypoint", containerfile: "FROM scratch AS r\nADD r-1.tar.gz /\nFROM scratch\nCOPY --from=r /a /a\n", want: "no ENTRYPOINT"},
		{name: "entrypoint not in the image", containerfile: "FROM scratch\nENTRYPOINT [\"/a\"]\n", want: "entrypoint /a is not in the image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			entries := tt.entries
			if entries == nil {
				entries = []tarEntry{{"a", tar.TypeReg, "a"}}
			}
			writeRelease(t, dir, "r-1.tar.gz", "SHA256SUMS", entries)
			if tt.tamper != nil {
				tt.tamper(t, dir)
			}
			cf := filepath.Join(dir, "Containerfile")
			if err := os.WriteFile(cf, []byte(tt.containerfile), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.tar")
			err := run(cf, dir, "x/y:z", out, "amd64", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run = %v, want an error containing %q", err, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused build left an image behind")
			}
		})
	}
}

// A good build writes an importable layout: the pause package's own tests
// cover the layout, so here only that run writes it.
func TestRunWritesTheImage(t *testing.T) {
	dir := t.TempDir()
	writeRelease(t, dir, "r-1.tar.gz", "SHA256SUMS", []tarEntry{{"d/a", tar.TypeReg, "a"}})
	cf := filepath.Join(dir, "Containerfile")
	text := "ARG V\nFROM scratch AS r\nARG V\nADD r-${V}.tar.gz /\nFROM scratch\nCOPY --from=r /d/ /x/\nENTRYPOINT [\"/x/a\"]\n"
	if err := os.WriteFile(cf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.tar")
	if err := run(cf, dir, "x/y:z", out, "amd64", map[string]string{"V": "1"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Errorf("no image written: %v", err)
	}
}
