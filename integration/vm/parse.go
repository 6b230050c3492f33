package vm

import (
	"fmt"
	"strings"
)

// ParseLdd returns the absolute paths of the shared objects listed in ldd
// output, the dynamic loader included, in order of first appearance. It
// accepts the output for one file or for several (with "file:" headers).
// The vDSO has no file and is skipped; a library ldd could not find is an
// error naming it, since the guest could not run the binary either.
func ParseLdd(out string) ([]string, error) {
	var paths []string
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "\t") {
			continue // a "file:" header, or blank
		}
		p, err := lddPath(strings.TrimSpace(line))
		if err != nil {
			return nil, err
		}
		if p != "" && !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// lddPath returns the file of one ldd line: "libc.so.6 => /lib/…/libc.so.6
// (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)" or "linux-vdso.so.1 (0x…)".
func lddPath(line string) (string, error) {
	if name, target, ok := strings.Cut(line, " => "); ok {
		if strings.HasPrefix(target, "not found") {
			return "", fmt.Errorf("resolving shared library %s: not found", name)
		}
		line = target
	}
	p, _, _ := strings.Cut(line, " (")
	if !strings.HasPrefix(p, "/") {
		return "", nil
	}
	return p, nil
}

// ParseAptDepends returns the versioned kernel package that a metapackage
// such as linux-image-cloud-amd64 depends on, from `apt-cache depends`
// output ("  Depends: linux-image-6.1.0-28-cloud-amd64"). The first such
// dependency wins; alternatives ("|Depends:") and non-kernel dependencies
// are ignored.
func ParseAptDepends(out string) (string, error) {
	for _, line := range strings.Split(out, "\n") {
		pkg, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: ")
		if !ok || !strings.HasPrefix(pkg, "linux-image-") {
			continue
		}
		if rest := strings.TrimPrefix(pkg, "linux-image-"); rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			return pkg, nil
		}
	}
	return "", fmt.Errorf("parsing apt-cache depends: no versioned linux-image dependency in %q", out)
}
