package vm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// RunGuest is the guest's init: it prepares the system, runs the test from
// the job, prints the exit marker and powers off. It never returns; if
// power-off fails, exiting makes the kernel panic, and QEMU (-no-reboot,
// panic=-1) exits.
func RunGuest() {
	job, err := readJob()
	if err != nil {
		fmt.Printf("vmexec guest: %v\n", err)
		powerOff()
	}
	fmt.Println(StartLine(job.Nonce))
	code := 1
	if err := setUpGuest(job); err != nil {
		fmt.Printf("vmexec guest: %v\n", err)
	} else {
		code = runTest(job)
	}
	fmt.Println(ExitLine(job.Nonce, code))
	powerOff()
}

func readJob() (Job, error) {
	var job Job
	b, err := os.ReadFile(guestJobPath)
	if err != nil {
		return job, fmt.Errorf("reading job: %w", err)
	}
	if err := json.Unmarshal(b, &job); err != nil {
		return job, fmt.Errorf("decoding job %s: %w", guestJobPath, err)
	}
	if len(job.Args) == 0 {
		return job, fmt.Errorf("decoding job %s: no test binary", guestJobPath)
	}
	return job, nil
}

func setUpGuest(job Job) error {
	steps := []func() error{
		func() error { return mountFilesystems(job.Tmpfs) },
		func() error { return setLinkUp("lo") },
		func() error { return loadModules(job.Modules) },
		func() error { return os.MkdirAll(job.Dir, 0o755) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// mount is one filesystem the guest mounts at boot.
type mount struct {
	source, target, fstype string
}

// mountFilesystems mounts the kernel filesystems, the tmpfs directories,
// and a tmpfs on /run/netns for `ip netns` and named test namespaces.
func mountFilesystems(tmpfs []string) error {
	ms := []mount{{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"}}
	for _, d := range tmpfs {
		ms = append(ms, mount{"tmpfs", d, "tmpfs"})
	}
	ms = append(ms, mount{"tmpfs", guestNetnsDir, "tmpfs"})
	for _, m := range ms {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return fmt.Errorf("creating mount point %s: %w", m.target, err)
		}
		if err := unix.Mount(m.source, m.target, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("mounting %s on %s: %w", m.fstype, m.target, err)
		}
	}
	return nil
}

// setLinkUp sets IFF_UP on a link of the current netns.
// Equivalent to: ip link set $name up
func setLinkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("setting %s up: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("setting %s up: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("setting %s up: reading flags: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("setting %s up: %w", name, err)
	}
	return nil
}

// loadModules loads module files in order with finit_module. EEXIST means
// the module is already in (loaded as someone's dependency), which is fine.
func loadModules(paths []string) error {
	for _, p := range paths {
		if err := loadModule(p); err != nil {
			return err
		}
	}
	return nil
}

func loadModule(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("loading module %s: %w", p, err)
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("loading module %s: %w", p, err)
	}
	return nil
}

// runTest runs the test binary on the console and returns its exit code,
// 128+signal if a signal killed it, as a shell reports it.
func runTest(job Job) int {
	cmd := exec.Command(job.Args[0], job.Args[1:]...)
	cmd.Env, cmd.Dir = job.Env, job.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stdout
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	}
	fmt.Printf("vmexec guest: running %s: %v\n", job.Args[0], err)
	return 1
}

// powerOff flushes the console and turns the VM off. Without the drain,
// the last lines (the exit marker) can be lost in the UART's buffer.
func powerOff() {
	unix.Sync()
	// Best effort: a console that cannot drain still gets the power-off.
	_ = unix.IoctlSetInt(int(os.Stdout.Fd()), unix.TCSBRK, 1)
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Printf("vmexec guest: powering off: %v\n", err)
	}
	os.Exit(1)
}
