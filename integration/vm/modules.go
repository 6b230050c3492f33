package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Module is one kernel module to load in the guest, uncompressed.
type Module struct {
	Name  string
	Image []byte
}

// ModuleIndex knows the modules of one unpacked kernel: the file of each
// loadable module and the names of those built in. Debian's package has no
// modules.dep, so dependencies come from each module's .modinfo.
type ModuleIndex struct {
	files   map[string]string
	builtin map[string]bool
	images  map[string][]byte
}

// IndexModules walks modDir (lib/modules/<release>) for module files and
// reads modules.builtin.
func IndexModules(modDir string) (*ModuleIndex, error) {
	ix := &ModuleIndex{files: map[string]string{}, builtin: map[string]bool{}, images: map[string][]byte{}}
	err := filepath.WalkDir(filepath.Join(modDir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isModuleFile(d.Name()) {
			ix.files[ModuleName(p)] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indexing modules in %s: %w", modDir, err)
	}
	if err := ix.readBuiltin(filepath.Join(modDir, "modules.builtin")); err != nil {
		return nil, err
	}
	return ix, nil
}

// isModuleFile reports whether name is a module in a form readModuleImage reads.
func isModuleFile(name string) bool {
	for _, ext := range []string{".ko", ".ko.gz", ".ko.xz", ".ko.zst"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func (ix *ModuleIndex) readBuiltin(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading built-in modules: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			ix.builtin[ModuleName(line)] = true
		}
	}
	return nil
}

// Plan returns the modules to load for wanted, dependencies first. Built-in
// modules are left out; a name the kernel has neither as a module nor built
// in is an error naming it.
func (ix *ModuleIndex) Plan(wanted []string) ([]Module, error) {
	order, err := LoadOrder(wanted, ix.depends)
	if err != nil {
		return nil, err
	}
	var mods []Module
	for _, name := range order {
		if !ix.builtin[name] {
			mods = append(mods, Module{Name: name, Image: ix.images[name]})
		}
	}
	return mods, nil
}

// depends reads a module's image (kept for Plan) and returns its dependencies.
func (ix *ModuleIndex) depends(name string) ([]string, error) {
	if ix.builtin[name] {
		return nil, nil
	}
	file, ok := ix.files[name]
	if !ok {
		return nil, fmt.Errorf("module %s: neither a module file nor built into this kernel", name)
	}
	img, err := readModuleImage(file)
	if err != nil {
		return nil, err
	}
	mi, err := ReadModinfo(img)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", file, err)
	}
	ix.images[name] = img
	return mi.Depends, nil
}

// readModuleImage returns a module file uncompressed. Debian 12 ships plain
// .ko files; gzip is handled in Go, xz and zstd by the host's tools, so the
// guest can always use plain finit_module whatever the kernel's
// CONFIG_MODULE_DECOMPRESS says.
func readModuleImage(file string) ([]byte, error) {
	switch filepath.Ext(file) {
	case ".ko":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading module %s: %w", file, err)
		}
		return b, nil
	case ".gz":
		return gunzipFile(file)
	case ".xz":
		return decompressWith(file, "xz", "-dc")
	case ".zst":
		return decompressWith(file, "zstd", "-dc")
	}
	return nil, fmt.Errorf("reading module %s: unknown compression", file)
}

func gunzipFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading module %s: %w", file, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("decompressing module %s: %w", file, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompressing module %s: %w", file, err)
	}
	return b, nil
}

func decompressWith(file, tool string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(tool, append(args, file)...)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("decompressing module %s with %s: %w: %s", file, tool, err, strings.TrimSpace(stderr.String()))
	}
	return b, nil
}
