package vm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// kernelMetaPackage is the Debian package whose dependency names the
// current cloud kernel. The cloud flavour has ipvlan, dummy and the rest as
// modules and is LZ4-compressed, which boots fastest under TCG.
const kernelMetaPackage = "linux-image-cloud-amd64"

// completeMark is written last into an unpacked kernel, so a fetch cut
// short is never mistaken for a cached kernel.
const completeMark = ".netsteer-complete"

// resolvedFile remembers the last resolved package name. apt-cache takes
// about a second here, so a fresh answer is reused for resolveTTL.
const (
	resolvedFile = "resolved"
	resolveTTL   = 12 * time.Hour
)

// Kernel is an unpacked Debian kernel package.
type Kernel struct {
	Package string // e.g. linux-image-6.1.0-56-cloud-amd64
	Vmlinuz string
	ModDir  string // lib/modules/<release> inside the package
}

// FetchKernel returns the cloud kernel cached under cacheDir by its
// resolved package name, downloading and unpacking it with apt first if it
// is not there. Exact versions leave the archive within weeks, so the name
// floats with apt's view; an answer is reused for resolveTTL. When apt
// cannot resolve the name (offline), the most recently fetched cached
// kernel is used and log says so.
func FetchKernel(cacheDir string, log io.Writer) (Kernel, error) {
	if pkg, ok := recentlyResolved(cacheDir); ok {
		return openKernel(pkg, filepath.Join(cacheDir, pkg))
	}
	pkg, err := resolveKernelPackage(log)
	if err != nil {
		k, cerr := newestCachedKernel(cacheDir)
		if cerr != nil {
			return Kernel{}, errors.Join(err, cerr)
		}
		fmt.Fprintf(log, "==> %v; using cached %s\n", err, k.Package)
		return k, nil
	}
	dir := filepath.Join(cacheDir, pkg)
	if _, err := os.Stat(filepath.Join(dir, completeMark)); err != nil {
		fmt.Fprintf(log, "==> fetching VM kernel %s\n", pkg)
		if err := downloadKernel(pkg, cacheDir, dir, log); err != nil {
			return Kernel{}, err
		}
	}
	rememberResolved(cacheDir, pkg, log)
	return openKernel(pkg, dir)
}

// recentlyResolved returns the package resolved less than resolveTTL ago,
// if it is cached complete.
func recentlyResolved(cacheDir string) (string, bool) {
	p := filepath.Join(cacheDir, resolvedFile)
	fi, err := os.Stat(p)
	if err != nil || time.Since(fi.ModTime()) > resolveTTL {
		return "", false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	pkg := strings.TrimSpace(string(b))
	if _, err := os.Stat(filepath.Join(cacheDir, pkg, completeMark)); pkg == "" || err != nil {
		return "", false
	}
	return pkg, true
}

// rememberResolved records pkg for recentlyResolved. Failing to write it
// only costs the next run an apt-cache call, so it is logged, not returned.
func rememberResolved(cacheDir, pkg string, log io.Writer) {
	tmp := filepath.Join(cacheDir, fmt.Sprintf(".%s.%d", resolvedFile, os.Getpid()))
	err := os.WriteFile(tmp, []byte(pkg+"\n"), 0o644)
	if err == nil {
		err = os.Rename(tmp, filepath.Join(cacheDir, resolvedFile))
	}
	if err != nil {
		fmt.Fprintf(log, "==> remembering kernel package name: %v\n", err)
	}
}

// resolveKernelPackage asks apt which versioned package the metapackage
// depends on, refreshing apt's lists once if it cannot tell.
func resolveKernelPackage(log io.Writer) (string, error) {
	out, err := exec.Command("apt-cache", "depends", kernelMetaPackage).Output()
	if err == nil {
		if pkg, perr := ParseAptDepends(string(out)); perr == nil {
			return pkg, nil
		}
	}
	fmt.Fprintf(log, "==> apt-get update (apt-cache cannot resolve %s)\n", kernelMetaPackage)
	if err := runLogged(log, "", "apt-get", "update"); err != nil {
		return "", fmt.Errorf("resolving %s: %w", kernelMetaPackage, err)
	}
	out, err = exec.Command("apt-cache", "depends", kernelMetaPackage).Output()
	if err != nil {
		return "", fmt.Errorf("resolving %s: apt-cache depends: %w", kernelMetaPackage, err)
	}
	return ParseAptDepends(string(out))
}

// downloadKernel fetches pkg with apt-get download and unpacks it into dir.
// It unpacks into a temporary sibling and renames, so concurrent test
// binaries fetching the same kernel never see half a tree. The download
// runs unsandboxed (as root): apt's _apt user cannot write into a private
// temporary directory, and apt would only warn and fall back anyway.
func downloadKernel(pkg, cacheDir, dir string, log io.Writer) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return fmt.Errorf("creating kernel cache %s: %w", cacheDir, err)
	}
	tmp, err := os.MkdirTemp(cacheDir, ".nst-fetch-")
	if err != nil {
		return fmt.Errorf("creating kernel cache %s: %w", cacheDir, err)
	}
	defer os.RemoveAll(tmp)
	if err := runLogged(log, tmp, "apt-get", "download", "-o", "APT::Sandbox::User=root", pkg); err != nil {
		return fmt.Errorf("downloading %s: %w", pkg, err)
	}
	return unpackKernel(pkg, tmp, dir, log)
}

func unpackKernel(pkg, tmp, dir string, log io.Writer) error {
	debs, err := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if err != nil || len(debs) != 1 {
		return fmt.Errorf("downloading %s: expected one .deb in %s, found %d", pkg, tmp, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if err := runLogged(log, "", "dpkg-deb", "-x", debs[0], root); err != nil {
		return fmt.Errorf("unpacking %s: %w", debs[0], err)
	}
	if err := os.WriteFile(filepath.Join(root, completeMark), nil, 0o644); err != nil {
		return fmt.Errorf("marking %s complete: %w", pkg, err)
	}
	if err := os.Rename(root, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, completeMark)); serr == nil {
			return nil // another test binary unpacked it first
		}
		return fmt.Errorf("moving %s into the cache: %w", pkg, err)
	}
	return nil
}

// openKernel finds the kernel image and module tree in an unpacked package.
// Debian 12 ships lib/modules; merged-/usr packages ship usr/lib/modules.
func openKernel(pkg, dir string) (Kernel, error) {
	vmlinuz, err := globOne(filepath.Join(dir, "boot", "vmlinuz-*"))
	if err != nil {
		return Kernel{}, fmt.Errorf("opening kernel %s: %w", pkg, err)
	}
	mods, err := globOne(filepath.Join(dir, "lib", "modules", "*"))
	if err != nil {
		mods, err = globOne(filepath.Join(dir, "usr", "lib", "modules", "*"))
	}
	if err != nil {
		return Kernel{}, fmt.Errorf("opening kernel %s: %w", pkg, err)
	}
	return Kernel{Package: pkg, Vmlinuz: vmlinuz, ModDir: mods}, nil
}

func globOne(pattern string) (string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return "", err
	}
	if len(m) != 1 {
		return "", fmt.Errorf("%d matches for %s, want 1", len(m), pattern)
	}
	return m[0], nil
}

// newestCachedKernel returns the complete cached kernel fetched last.
func newestCachedKernel(cacheDir string) (Kernel, error) {
	marks, err := filepath.Glob(filepath.Join(cacheDir, "*", completeMark))
	if err != nil || len(marks) == 0 {
		return Kernel{}, fmt.Errorf("finding a cached kernel in %s: none", cacheDir)
	}
	sort.Slice(marks, func(i, j int) bool { return modTime(marks[i]) > modTime(marks[j]) })
	dir := filepath.Dir(marks[0])
	return openKernel(filepath.Base(dir), dir)
}

func modTime(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.ModTime().UnixNano()
}

// runLogged runs a command in dir with its output going to log, and
// returns an error carrying the command line.
func runLogged(log io.Writer, dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running %s %v: %w", name, args, err)
	}
	return nil
}

// ensureQEMU installs qemu-system-x86 with apt when qemu-system-x86_64 is
// missing, and returns the binary's path.
func ensureQEMU(log io.Writer) (string, error) {
	if p, err := exec.LookPath("qemu-system-x86_64"); err == nil {
		return p, nil
	}
	fmt.Fprintln(log, "==> installing qemu-system-x86 (qemu-system-x86_64 is missing)")
	err := runLogged(log, "", "apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86")
	if err != nil {
		fmt.Fprintln(log, "==> apt-get update, then retrying")
		if err := runLogged(log, "", "apt-get", "update"); err != nil {
			return "", fmt.Errorf("installing qemu-system-x86: %w", err)
		}
		err = runLogged(log, "", "apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86")
	}
	if err != nil {
		return "", fmt.Errorf("installing qemu-system-x86: %w", err)
	}
	p, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "", fmt.Errorf("finding qemu-system-x86_64 after install: %w", err)
	}
	return p, nil
}
