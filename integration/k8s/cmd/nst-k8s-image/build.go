package main

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

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

// fileTree is a stage's file system: clean absolute path -> content.
type fileTree map[string][]byte

// builder runs the instructions. Stages start empty (FROM scratch only).
type builder struct {
	context    string
	arch       string
	buildArgs  map[string]string
	vars       map[string]string // ARGs in scope in the current stage
	stage      fileTree
	stages     map[string]fileTree
	entrypoint []string
}

func newBuilder(context, arch string, buildArgs map[string]string) *builder {
	return &builder{context: context, arch: arch, buildArgs: buildArgs, vars: map[string]string{}, stages: map[string]fileTree{}}
}

func (b *builder) build(ins []instruction) error {
	for _, in := range ins {
		if err := b.step(in); err != nil {
			return err
		}
	}
	if b.stage == nil {
		return fmt.Errorf("no FROM")
	}
	return nil
}

func (b *builder) step(in instruction) error {
	if in.op != "FROM" && in.op != "ARG" && b.stage == nil {
		return fmt.Errorf("%s before FROM", in.op)
	}
	switch in.op {
	case "FROM":
		return b.from(in.args)
	case "ARG":
		return b.arg(in.args)
	case "ADD":
		return b.add(in.args)
	case "COPY":
		return b.copyFrom(in.args)
	case "ENTRYPOINT":
		e, err := entrypointJSON(in.args)
		b.entrypoint = e
		return err
	}
	return fmt.Errorf("instruction %s is not supported", in.op)
}

// from starts a new, empty stage; ARGs go out of scope as in BuildKit.
func (b *builder) from(args string) error {
	f := strings.Fields(args)
	if len(f) == 0 || f[0] != "scratch" || !(len(f) == 1 || len(f) == 3 && strings.EqualFold(f[1], "AS")) {
		return fmt.Errorf("FROM %q: only `FROM scratch [AS name]` is supported", args)
	}
	b.stage, b.vars = fileTree{}, map[string]string{}
	if len(f) == 3 {
		b.stages[f[2]] = b.stage
	}
	return nil
}

// arg declares a variable: a -build-arg wins, then TARGETARCH's platform
// value, then the default (itself expanded).
func (b *builder) arg(args string) error {
	k, def, hasDef := strings.Cut(args, "=")
	if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(k) {
		return fmt.Errorf("ARG %q: bad name", args)
	}
	switch v, ok := b.buildArgs[k]; {
	case ok:
		b.vars[k] = v
	case k == "TARGETARCH":
		b.vars[k] = b.arch
	case hasDef:
		v, err := b.expand(def)
		if err != nil {
			return fmt.Errorf("ARG %s: %w", k, err)
		}
		b.vars[k] = v
	default:
		b.vars[k] = ""
	}
	return nil
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand substitutes ${X} and $X. An undeclared or empty variable is an
// error rather than BuildKit's empty string: a missing -build-arg
// VERSION must not turn into a path that happens to exist.
func (b *builder) expand(s string) (string, error) {
	var err error
	out := varRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2]
		v, ok := b.vars[name]
		if (!ok || v == "") && err == nil {
			err = fmt.Errorf("variable %s is not set (declare it with ARG, pass -build-arg %s=...)", name, name)
		}
		return v
	})
	return out, err
}

// fields expands an instruction's arguments and splits them.
func (b *builder) fields(op, args string) ([]string, error) {
	s, err := b.expand(args)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, args, err)
	}
	return strings.Fields(s), nil
}

// add unpacks a local tarball from the build context into the stage.
func (b *builder) add(args string) error {
	f, err := b.fields("ADD", args)
	if err != nil {
		return err
	}
	if len(f) != 2 || strings.HasPrefix(f[0], "--") {
		return fmt.Errorf("ADD %q: want <tarball in the context> <dir>", args)
	}
	if !strings.HasSuffix(f[0], ".tar.gz") && !strings.HasSuffix(f[0], ".tgz") {
		return fmt.Errorf("ADD %s: only a local .tar.gz is supported", f[0])
	}
	files, err := unpackVerified(b.context, f[0])
	if err != nil {
		return fmt.Errorf("ADD %s: %w", f[0], err)
	}
	for p, data := range files {
		b.stage[path.Join("/", f[1], p)] = data
	}
	return nil
}

// copyFrom copies files of an earlier stage: COPY --from=stage src... dst.
// With several sources or a dst ending in /, each lands as dst/<base>; a
// source directory copies its contents.
func (b *builder) copyFrom(args string) error {
	f, err := b.fields("COPY", args)
	if err != nil {
		return err
	}
	if len(f) < 3 || !strings.HasPrefix(f[0], "--from=") {
		return fmt.Errorf("COPY %q: want --from=<stage> <src>... <dst>", args)
	}
	from, ok := b.stages[strings.TrimPrefix(f[0], "--from=")]
	if !ok {
		return fmt.Errorf("COPY %q: no stage %s", args, strings.TrimPrefix(f[0], "--from="))
	}
	srcs, dst := f[1:len(f)-1], f[len(f)-1]
	intoDir := len(srcs) > 1 || strings.HasSuffix(dst, "/")
	for _, src := range srcs {
		matched := copyTree(from, b.stage, path.Clean(path.Join("/", src)), path.Clean(path.Join("/", dst)), intoDir)
		if matched == 0 {
			return fmt.Errorf("COPY %s: no such file in stage %s", src, strings.TrimPrefix(f[0], "--from="))
		}
	}
	return nil
}

// copyTree copies src (a file, or a directory's contents) from one tree to
// another and reports how many files it copied.
func copyTree(from, to fileTree, src, dst string, intoDir bool) int {
	if data, ok := from[src]; ok {
		if intoDir {
			dst = path.Join(dst, path.Base(src))
		}
		to[dst] = data
		return 1
	}
	var names []string
	for p := range from {
		if strings.HasPrefix(p, src+"/") {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		to[path.Join(dst, strings.TrimPrefix(p, src+"/"))] = from[p]
	}
	return len(names)
}
