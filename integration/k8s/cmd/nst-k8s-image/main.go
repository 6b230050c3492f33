// Command nst-k8s-image builds the netsteer DaemonSet image from
// conf/kubernetes/Containerfile without a container engine or a registry,
// the way BuildKit would for one platform: it unpacks the release tarball
// the Containerfile ADDs from the build context (the `make dist` output
// directory), lays the files out as its COPY lines say, and packs them as
// an OCI layout tar for `ctr images import`. Only the instructions that
// Containerfile uses are understood (ARG, FROM scratch, ADD of a local
// tarball, COPY --from, ENTRYPOINT); anything else is an error, so the test
// image cannot silently drift from the shipped recipe. A tarball is ADDed
// only when a *SHA256SUMS file in the context lists it with a matching sum.
//
//	nst-k8s-image -containerfile conf/kubernetes/Containerfile -context dist \
//	    -build-arg VERSION=v0.1.0 -name ghcr.io/netsteer/netsteer:v0.1.0 -o bin/k8s/netsteer.tar
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/netsteer/netsteer/integration/pause"
)

// buildArgs collects repeated -build-arg KEY=value flags.
type buildArgs map[string]string

func (b buildArgs) String() string { return fmt.Sprint(map[string]string(b)) }

func (b buildArgs) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("build arg %q: want KEY=value", kv)
	}
	b[k] = v
	return nil
}

func main() {
	containerfile := flag.String("containerfile", "conf/kubernetes/Containerfile", "the recipe")
	context := flag.String("context", "dist", "build context (the directory holding the release tarballs and their SHA256SUMS)")
	name := flag.String("name", "", "image reference containerd registers (required)")
	out := flag.String("o", "", "output tar (required)")
	arch := flag.String("arch", runtime.GOARCH, "target architecture (TARGETARCH)")
	args := buildArgs{}
	flag.Var(args, "build-arg", "KEY=value for an ARG (repeatable)")
	flag.Parse()
	if *name == "" || *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*containerfile, *context, *name, *out, *arch, args); err != nil {
		fmt.Fprintln(os.Stderr, "nst-k8s-image:", err)
		os.Exit(1)
	}
}

func run(containerfile, buildContext, name, out, arch string, args map[string]string) error {
	text, err := os.ReadFile(containerfile)
	if err != nil {
		return err
	}
	b := newBuilder(buildContext, arch, args)
	if err := b.build(parse(string(text))); err != nil {
		return fmt.Errorf("%s: %w", containerfile, err)
	}
	img, err := b.image(name)
	if err != nil {
		return fmt.Errorf("%s: %w", containerfile, err)
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := img.WriteLayout(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %s (%s) with %d files\n", out, name, arch, len(img.Extra)+1)
	return os.Rename(tmp, out)
}

// image packs the final stage: the entrypoint and every other file.
func (b *builder) image(name string) (pause.Image, error) {
	if len(b.entrypoint) == 0 {
		return pause.Image{}, fmt.Errorf("no ENTRYPOINT")
	}
	final := b.stage
	img := pause.Image{Name: name, Path: b.entrypoint[0], Binary: final[b.entrypoint[0]], Entrypoint: b.entrypoint, OS: "linux", Architecture: b.arch}
	if img.Binary == nil {
		return pause.Image{}, fmt.Errorf("entrypoint %s is not in the image", b.entrypoint[0])
	}
	var paths []string
	for p := range final {
		if p != b.entrypoint[0] {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		img.Extra = append(img.Extra, pause.File{Path: p, Data: final[p]})
	}
	return img, nil
}

// entrypointJSON parses ENTRYPOINT's exec form.
func entrypointJSON(args string) ([]string, error) {
	var e []string
	if err := json.Unmarshal([]byte(args), &e); err != nil || len(e) == 0 {
		return nil, fmt.Errorf("ENTRYPOINT %q: want a JSON array", args)
	}
	return e, nil
}
