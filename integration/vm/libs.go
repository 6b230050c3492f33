package vm

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// hostTools are the host binaries copied into every guest, so tests assert
// kernel state with the kernel's own tools (ip -j, iptables-save) in both
// iptables backends. Missing ones are reported, not fatal: a test needing
// them fails in the guest with "executable file not found".
func hostTools() []string {
	var tools []string
	for _, family := range []string{"iptables", "ip6tables"} {
		for _, backend := range []string{"", "-nft", "-legacy"} {
			for _, verb := range []string{"", "-save", "-restore"} {
				tools = append(tools, family+backend+verb)
			}
		}
	}
	return append(tools, "ip", "nft")
}

// hostSupportFiles are data files the tools read when present: the loader
// cache, protocol and service names, iproute2 tables, and iptables'
// extensions, which it loads with dlopen so ldd cannot see them.
func hostSupportFiles() []string {
	return []string{
		"/etc/ld.so.cache", "/etc/protocols", "/etc/services", "/etc/ethertypes",
		"/etc/iproute2", "/usr/share/iproute2", "/usr/lib/x86_64-linux-gnu/xtables",
	}
}

// sbinPath is searched as well as PATH: go test may run with a user PATH
// that lacks the sbin directories where Debian keeps ip and iptables.
const sbinPath = "/usr/local/sbin:/usr/sbin:/sbin"

// lookTool finds a tool in PATH or the sbin directories.
func lookTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, true
		}
	}
	for _, dir := range filepath.SplitList(sbinPath) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// addHostTools mirrors the tools and support files that exist on the host,
// and tells log about the tools that do not.
func addHostTools(t *Tree, log io.Writer) error {
	var missing []string
	for _, name := range hostTools() {
		p, ok := lookTool(name)
		if !ok {
			missing = append(missing, name)
			continue
		}
		if err := t.AddHostPath(p); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(log, "==> not on this host, so not in the VM: %s\n", strings.Join(missing, " "))
	}
	for _, p := range hostSupportFiles() {
		if _, err := os.Stat(p); err != nil {
			continue // optional: not every host has every table
		}
		if err := t.AddHostPath(p); err != nil {
			return err
		}
	}
	return nil
}

// addSharedLibs mirrors the shared libraries, and the dynamic loader, of
// every dynamically linked ELF file in the tree, resolved by one ldd call.
func addSharedLibs(t *Tree) error {
	var dynamic []string
	for _, p := range t.hostFiles() {
		if isDynamicELF(p) {
			dynamic = append(dynamic, p)
		}
	}
	if len(dynamic) == 0 {
		return nil
	}
	libs, err := lddLibs(dynamic)
	if err != nil {
		return err
	}
	for _, lib := range libs {
		if err := t.AddHostPath(lib); err != nil {
			return err
		}
	}
	return nil
}

func lddLibs(files []string) ([]string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("ldd", files...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("resolving shared libraries with ldd: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return ParseLdd(string(out))
}

// isDynamicELF reports whether p is an ELF file that needs shared
// libraries: a program with an interpreter, or a library with DT_NEEDED.
func isDynamicELF(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false // not ELF: scripts and data need no libraries
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return true
		}
	}
	needed, err := f.ImportedLibraries()
	return err == nil && len(needed) > 0
}
