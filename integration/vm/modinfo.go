package vm

import (
	"bytes"
	"debug/elf"
	"fmt"
	"path/filepath"
	"strings"
)

// Modinfo is what the harness needs from a kernel module's .modinfo section.
type Modinfo struct {
	Name    string   // "name=", present since Linux 5.x; may be empty on older kernels
	Depends []string // "depends=", module names the kernel resolves symbols from
}

// ParseModinfo parses the contents of a .modinfo ELF section: NUL-separated
// "key=value" strings. Empty strings (alignment padding) are ignored, and an
// empty "depends=" means no dependencies. Names are normalized with
// ModuleName, so "nf-nat" and "nf_nat" compare equal.
func ParseModinfo(section []byte) Modinfo {
	var mi Modinfo
	for _, kv := range bytes.Split(section, []byte{0}) {
		key, value, ok := strings.Cut(string(kv), "=")
		if !ok {
			continue
		}
		switch key {
		case "name":
			mi.Name = ModuleName(value)
		case "depends":
			for _, d := range strings.Split(value, ",") {
				if d != "" {
					mi.Depends = append(mi.Depends, ModuleName(d))
				}
			}
		}
	}
	return mi
}

// ReadModinfo extracts and parses the .modinfo section of an uncompressed
// module image.
func ReadModinfo(ko []byte) (Modinfo, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return Modinfo{}, fmt.Errorf("reading module ELF: %w", err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return Modinfo{}, fmt.Errorf("reading module ELF: no .modinfo section")
	}
	data, err := sec.Data()
	if err != nil {
		return Modinfo{}, fmt.Errorf("reading module .modinfo: %w", err)
	}
	return ParseModinfo(data), nil
}

// ModuleName returns the kernel's name for a module file or name: the base
// name without ".ko" and any compression suffix, with '-' replaced by '_'
// (the kernel treats the two as the same character in module names).
func ModuleName(s string) string {
	s = filepath.Base(s)
	for _, ext := range []string{".gz", ".xz", ".zst"} {
		s = strings.TrimSuffix(s, ext)
	}
	s = strings.TrimSuffix(s, ".ko")
	return strings.ReplaceAll(s, "-", "_")
}

// LoadOrder returns wanted and everything they depend on, each once, with
// every module after its dependencies: the order finit_module needs when
// nothing can autoload. deps reports the direct dependencies of one module.
// Modules come out in the order first reached, so the result is stable for a
// given input. A dependency cycle is an error naming the cycle.
func LoadOrder(wanted []string, deps func(name string) ([]string, error)) ([]string, error) {
	o := loadOrder{deps: deps, state: map[string]int{}}
	for _, w := range wanted {
		if err := o.visit(ModuleName(w), nil); err != nil {
			return nil, err
		}
	}
	return o.order, nil
}

// Visit states of a module during the depth-first walk in loadOrder.
const (
	unvisited = iota
	visiting
	visited
)

type loadOrder struct {
	deps  func(string) ([]string, error)
	state map[string]int
	order []string
}

func (o *loadOrder) visit(name string, path []string) error {
	switch o.state[name] {
	case visited:
		return nil
	case visiting:
		return fmt.Errorf("ordering modules: dependency cycle %s", strings.Join(append(path, name), " -> "))
	}
	o.state[name] = visiting
	ds, err := o.deps(name)
	if err != nil {
		return fmt.Errorf("ordering modules: dependencies of %s: %w", name, err)
	}
	for _, d := range ds {
		if err := o.visit(ModuleName(d), append(path, name)); err != nil {
			return err
		}
	}
	o.state[name] = visited
	o.order = append(o.order, name)
	return nil
}
