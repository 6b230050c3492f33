// Command nst-pause-image packs a static binary as a single-layer OCI image
// layout tar for `ctr images import`, the offline sandbox image of the
// containerd end-to-end test.
//
//	nst-pause-image -binary bin/nst-pause -name localhost/netsteer/pause:e2e -o bin/nst-pause.tar
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/netsteer/netsteer/integration/pause"
)

func main() {
	binary := flag.String("binary", "", "static executable to pack (required)")
	name := flag.String("name", "localhost/netsteer/pause:e2e", "image reference containerd registers")
	inImage := flag.String("path", "/pause", "path of the executable inside the image")
	out := flag.String("o", "", "output tar (required)")
	flag.Parse()
	if *binary == "" || *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*binary, *out, pause.Image{
		Name: *name, Path: *inImage, Entrypoint: []string{*inImage},
		OS: "linux", Architecture: runtime.GOARCH,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "nst-pause-image:", err)
		os.Exit(1)
	}
}

// run writes the layout next to out and renames it into place, so an
// interrupted run never leaves a truncated tar under the final name.
func run(binary, out string, img pause.Image) error {
	data, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("reading binary: %w", err)
	}
	img.Binary = data
	tmp, err := os.CreateTemp(filepath.Dir(out), ".nst-pause-image-*")
	if err != nil {
		return fmt.Errorf("creating temp file for %s: %w", out, err)
	}
	defer os.Remove(tmp.Name()) // best effort: fails harmlessly once renamed
	if err := img.WriteLayout(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("setting mode of %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("renaming image into %s: %w", out, err)
	}
	return nil
}
