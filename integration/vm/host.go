package vm

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// RunHost is vmexec on the host: args are the test binary and its
// arguments, as `go test -exec` passes them. It returns the exit code for
// the process, or replaces the process with the test binary when the test
// runs natively.
func RunHost(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: vmexec TEST-BINARY [ARGS...]  (go test -exec vmexec -tags vm ./pkg/...)")
		return 2
	}
	cfg, err := ParseHostConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "vmexec: %v\n", err)
		return 2
	}
	if native(cfg, stderr) {
		return execNative(args, stderr)
	}
	code, err := runInVM(cfg, args, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "vmexec: %v\n", err)
		return 1
	}
	return code
}

// native reports whether the test runs on the host kernel.
func native(cfg HostConfig, stderr io.Writer) bool {
	switch cfg.Mode {
	case ModeNever:
		return true
	case ModeAlways:
		return false
	}
	ok, err := HostHasIPVLAN()
	if err != nil {
		fmt.Fprintf(stderr, "==> %v; running in a VM\n", err)
	}
	return ok
}

// execNative replaces this process with the test binary, so exit code and
// signals are the test's own.
func execNative(args []string, stderr io.Writer) int {
	bin, err := filepath.Abs(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "vmexec: %v\n", err)
		return 1
	}
	err = syscall.Exec(bin, args, os.Environ())
	fmt.Fprintf(stderr, "vmexec: running %s natively: %v\n", bin, err)
	return 1
}

// runInVM boots the guest and turns its outcome into an exit code.
func runInVM(cfg HostConfig, args []string, stdout, stderr io.Writer) (int, error) {
	r, cleanup, err := prepareVM(cfg, args, stdout, stderr)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	start := time.Now()
	out, err := Boot(r)
	if err != nil {
		return 0, err
	}
	if cfg.Verbose {
		fmt.Fprintf(stderr, "==> VM ran for %v\n", time.Since(start).Round(time.Millisecond))
	}
	return verdict(out, cfg, stderr), nil
}

// verdict reports the test's exit code, or a failure the harness explains:
// timeout, interruption, no exit marker, or a skip (a skipped test proves
// nothing here).
func verdict(out Outcome, cfg HostConfig, stderr io.Writer) int {
	code, exited := out.Console.Result()
	switch {
	case out.TimedOut:
		fmt.Fprintf(stderr, "vmexec: VM timed out after %v (NETSTEER_VM_TIMEOUT); killed QEMU\n", cfg.Timeout)
		return 1
	case out.Interrupted:
		fmt.Fprintln(stderr, "vmexec: interrupted by a signal; killed QEMU")
		return 1
	case !exited && out.Console.Started():
		fmt.Fprintf(stderr, "vmexec: guest stopped before the test exited (qemu: %v)\n", out.QEMUErr)
		return 1
	case !exited:
		fmt.Fprintf(stderr, "vmexec: guest never started the test (qemu: %v); its console:\n%s\n",
			out.QEMUErr, strings.Join(out.Console.BootLog(), "\n"))
		return 1
	case out.Console.Skipped():
		fmt.Fprintf(stderr, "vmexec: a test skipped inside the VM; skip inside the VM counts as failure (test exit code %d)\n", code)
		return 1
	}
	return code
}

// prepareVM fetches what the boot needs and writes the initramfs into a
// temporary directory, removed by the returned cleanup.
func prepareVM(cfg HostConfig, args []string, stdout, stderr io.Writer) (Run, func(), error) {
	start := time.Now()
	qemu, err := ensureQEMU(stderr)
	if err != nil {
		return Run{}, nil, err
	}
	k, err := FetchKernel(cfg.CacheDir, stderr)
	if err != nil {
		return Run{}, nil, err
	}
	spec, err := imageSpec(cfg, k, args)
	if err != nil {
		return Run{}, nil, err
	}
	tmp, err := os.MkdirTemp("", "nst-vm-")
	if err != nil {
		return Run{}, nil, fmt.Errorf("creating VM scratch directory: %w", err)
	}
	cleanup := func() { os.RemoveAll(tmp) }
	initrd := filepath.Join(tmp, "initrd.cpio")
	if err := writeImage(spec, initrd, stderr); err != nil {
		cleanup()
		return Run{}, nil, err
	}
	if cfg.Verbose {
		fmt.Fprintf(stderr, "==> %s, %d modules, initramfs %s, prepared in %v\n",
			k.Package, len(spec.Modules), fileSize(initrd), time.Since(start).Round(time.Millisecond))
	}
	r := Run{QEMU: qemu, Vmlinuz: k.Vmlinuz, Initrd: initrd, Nonce: spec.Job.Nonce, Timeout: cfg.Timeout, Stdout: stdout, Stderr: stderr}
	return r, cleanup, nil
}

func fileSize(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
}

func writeImage(spec ImageSpec, initrd string, log io.Writer) error {
	tree, err := BuildTree(spec, log)
	if err != nil {
		return err
	}
	return WriteInitramfs(tree, initrd)
}

// imageSpec gathers the job and the parts of the guest image.
func imageSpec(cfg HostConfig, k Kernel, args []string) (ImageSpec, error) {
	self, err := os.Executable()
	if err != nil {
		return ImageSpec{}, fmt.Errorf("finding the vmexec binary: %w", err)
	}
	job, err := newJob(args)
	if err != nil {
		return ImageSpec{}, err
	}
	ix, err := IndexModules(k.ModDir)
	if err != nil {
		return ImageSpec{}, err
	}
	mods, err := ix.Plan(append(DefaultModules(), cfg.ExtraModules...))
	if err != nil {
		return ImageSpec{}, fmt.Errorf("planning modules for %s: %w", k.Package, err)
	}
	return ImageSpec{Init: self, Job: job, Modules: mods, Files: cfg.Files}, nil
}

func newJob(args []string) (Job, error) {
	bin, err := filepath.Abs(args[0])
	if err != nil {
		return Job{}, fmt.Errorf("locating test binary %s: %w", args[0], err)
	}
	dir, err := os.Getwd()
	if err != nil {
		return Job{}, fmt.Errorf("reading working directory: %w", err)
	}
	nonce, err := newNonce()
	if err != nil {
		return Job{}, err
	}
	return Job{Nonce: nonce, Args: append([]string{bin}, args[1:]...), Env: GuestEnv(os.Environ()), Dir: dir}, nil
}

func newNonce() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making console nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}
