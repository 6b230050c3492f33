// Command nst-k8s-image builds the netsteer DaemonSet image from
// conf/kubernetes/Containerfile without a container engine or a registry:
// it runs the Containerfile's `go build` steps on the host with the same
// flags and environment, lays the outputs out as its COPY --from lines say,
// and packs them as an OCI layout tar for `ctr images import`. Only the
// instructions that Containerfile uses are understood; anything else is an
// error, so the test image cannot silently drift from the shipped recipe.
//
//	nst-k8s-image -containerfile conf/kubernetes/Containerfile -context . \
//	    -name ghcr.io/netsteer/netsteer:v0.1.0 -o bin/k8s/netsteer.tar
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/netsteer/netsteer/integration/pause"
)

func main() {
	containerfile := flag.String("containerfile", "conf/kubernetes/Containerfile", "the recipe")
	context := flag.String("context", ".", "build context (the repository root)")
	name := flag.String("name", "", "image reference containerd registers (required)")
	out := flag.String("o", "", "output tar (required)")
	buildEnv := flag.String("build-env", "", "comma-separated KEY=value added to the build's environment (e.g. GOAMD64=v2 for a different binary of the same source)")
	flag.Parse()
	if *name == "" || *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	var extraEnv []string
	if *buildEnv != "" {
		extraEnv = strings.Split(*buildEnv, ",")
	}
	if err := run(*containerfile, *context, *name, *out, extraEnv); err != nil {
		fmt.Fprintln(os.Stderr, "nst-k8s-image:", err)
		os.Exit(1)
	}
}

// instruction is one Containerfile line after joining continuations.
type instruction struct{ op, args string }

func parse(text string) []instruction {
	var ins []instruction
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		op, args, _ := strings.Cut(cur.String(), " ")
		ins = append(ins, instruction{strings.ToUpper(op), strings.TrimSpace(args)})
		cur.Reset()
	}
	return ins
}

func run(containerfile, buildContext, name, out string, extraEnv []string) error {
	text, err := os.ReadFile(containerfile)
	if err != nil {
		return err
	}
	stageOut, err := os.MkdirTemp("", "nst-k8s-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stageOut)
	env := os.Environ()
	files := map[string][]byte{} // final image path -> content
	var entrypoint []string
	stage := ""
	for _, in := range parse(string(text)) {
		switch in.op {
		case "FROM":
			stage = "final"
			if _, alias, ok := strings.Cut(in.args, " AS "); ok {
				stage = strings.TrimSpace(alias)
			}
		case "WORKDIR":
		case "COPY":
			if stage != "final" {
				if in.args != ". ." {
					return fmt.Errorf("build-stage COPY %q: only `COPY . .` is supported", in.args)
				}
				continue
			}
			f := strings.Fields(in.args)
			if len(f) != 3 || !strings.HasPrefix(f[0], "--from=") {
				return fmt.Errorf("COPY %q: want --from=<stage> <src> <dst>", in.args)
			}
			if err := copyOut(stageOut, f[1], f[2], files); err != nil {
				return err
			}
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				if !strings.Contains(kv, "=") {
					return fmt.Errorf("ENV %q: want KEY=value pairs", in.args)
				}
				env = append(env, kv)
			}
		case "RUN":
			runEnv := append(append([]string{}, env...), extraEnv...) // after ENV, so they win
			for _, step := range strings.Split(in.args, "&&") {
				if err := goBuild(strings.Fields(step), buildContext, stageOut, runEnv); err != nil {
					return err
				}
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &entrypoint); err != nil || len(entrypoint) == 0 {
				return fmt.Errorf("ENTRYPOINT %q: want a JSON array", in.args)
			}
		default:
			return fmt.Errorf("instruction %s is not supported", in.op)
		}
	}
	if len(entrypoint) == 0 {
		return fmt.Errorf("%s has no ENTRYPOINT", containerfile)
	}
	img := pause.Image{Name: name, Path: entrypoint[0], Binary: files[entrypoint[0]], Entrypoint: entrypoint, OS: "linux", Architecture: runtime.GOARCH}
	if img.Binary == nil {
		return fmt.Errorf("entrypoint %s is not in the image", entrypoint[0])
	}
	var paths []string
	for p := range files {
		if p != entrypoint[0] {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		img.Extra = append(img.Extra, pause.File{Path: p, Data: files[p]})
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
	fmt.Printf("%s: %s with %d files\n", out, name, len(files))
	return os.Rename(tmp, out)
}

// goBuild runs one `go build ... -o /out/...` step with /out mapped to
// stageOut.
func goBuild(args []string, buildContext, stageOut string, env []string) error {
	if len(args) < 2 || args[0] != "go" || args[1] != "build" {
		return fmt.Errorf("RUN step %q: only `go build` is supported", strings.Join(args, " "))
	}
	for i, a := range args {
		if a == "-o" && i+1 < len(args) {
			if !strings.HasPrefix(args[i+1], "/out/") {
				return fmt.Errorf("go build -o %s: must write under /out", args[i+1])
			}
			args[i+1] = filepath.Join(stageOut, strings.TrimPrefix(args[i+1], "/out/")) + suffixSlash(args[i+1])
		}
	}
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	cmd := exec.Command(gobin, args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = buildContext, env, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func suffixSlash(p string) string {
	if strings.HasSuffix(p, "/") {
		return "/"
	}
	return ""
}

// copyOut adds the files under stage path src (a /out/ path, a directory
// when it ends in /) to files at dst.
func copyOut(stageOut, src, dst string, files map[string][]byte) error {
	if !strings.HasPrefix(src, "/out/") {
		return fmt.Errorf("COPY from %s: only /out/ of the build stage is supported", src)
	}
	host := filepath.Join(stageOut, strings.TrimPrefix(src, "/out/"))
	if !strings.HasSuffix(src, "/") {
		data, err := os.ReadFile(host)
		if err != nil {
			return err
		}
		files[path.Clean(dst)] = data
		return nil
	}
	entries, err := os.ReadDir(host)
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(host, e.Name()))
		if err != nil {
			return err
		}
		files[path.Join(dst, e.Name())] = data
	}
	return nil
}
