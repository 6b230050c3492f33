package vm

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Job is what the host tells the guest's init, as /netsteer/job.json.
type Job struct {
	Nonce   string   // marks the start and exit lines of this run
	Args    []string // test binary (absolute, same path as on the host) and its arguments
	Env     []string
	Dir     string   // working directory, as on the host
	Modules []string // guest paths of the modules, in load order
	Tmpfs   []string // directories that get a fresh tmpfs
}

// Guest paths the harness itself uses.
const (
	guestJobPath   = "/netsteer/job.json"
	guestModuleDir = "/netsteer/modules"
	guestNetnsDir  = "/run/netns"
)

// ImageSpec is everything that goes into one guest besides the fixed layout.
type ImageSpec struct {
	Init    string   // host path of the static harness binary, becomes /init
	Job     Job      // Modules and Tmpfs are filled in by BuildTree
	Modules []Module // in load order
	Files   []string // host paths mirrored at the same paths (NETSTEER_VM_FILES)
}

// BuildTree assembles the guest's root filesystem: the fixed layout, /init,
// the test binary and its package's testdata, the modules, the host tools,
// the extra files, and the shared libraries of everything dynamic.
func BuildTree(spec ImageSpec, log io.Writer) (*Tree, error) {
	t := NewTree()
	steps := []func() error{
		func() error { return addLayout(t) },
		func() error { return t.AddHostFileAs("/init", spec.Init, 0o755) },
		func() error { return t.AddHostPath(spec.Job.Args[0]) },
		func() error { return addWorkDir(t, spec.Job.Dir) },
		func() error { return addHostTools(t, log) },
		func() error { return addFiles(t, spec.Files) },
		func() error { return addSharedLibs(t) },
		func() error { return addModules(t, spec.Modules, &spec.Job) },
		func() error { return addJob(t, spec.Job) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// guestEtc holds the guest's own /etc files. The host's would name host
// addresses and users; tests need only localhost and root.
func guestEtc() map[string]string {
	return map[string]string{
		"/etc/hosts":  "127.0.0.1 localhost\n::1 localhost\n",
		"/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
		"/etc/group":  "root:x:0:\n",
	}
}

// addLayout adds what PID 1 needs before it mounts anything: the console
// the kernel opens for it, mount points, and a minimal /etc. /var/run
// points to /run as on Debian, so `ip netns` and the netns library agree
// on /var/run/netns.
func addLayout(t *Tree) error {
	if err := t.AddCharDev("/dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	for _, d := range []string{"/proc", "/sys", "/tmp", "/run", "/root"} {
		if err := t.AddDir(d, 0o755); err != nil {
			return err
		}
	}
	for p, data := range guestEtc() {
		if err := t.AddData(p, 0o644, []byte(data)); err != nil {
			return err
		}
	}
	return t.AddSymlink("/var/run", "/run")
}

// addWorkDir creates the test's working directory and copies its testdata.
func addWorkDir(t *Tree, dir string) error {
	if err := t.AddHostDir(dir); err != nil {
		return err
	}
	td := filepath.Join(dir, "testdata")
	if _, err := os.Stat(td); err != nil {
		return nil // most packages have no testdata
	}
	return t.AddHostPath(td)
}

func addFiles(t *Tree, files []string) error {
	for _, f := range files {
		if err := t.AddHostPath(f); err != nil {
			return fmt.Errorf("adding NETSTEER_VM_FILES entry: %w", err)
		}
	}
	return nil
}

// addModules stores the modules under names that keep their load order
// visible, and records that order in the job.
func addModules(t *Tree, mods []Module, job *Job) error {
	for i, m := range mods {
		p := fmt.Sprintf("%s/%03d-%s.ko", guestModuleDir, i, m.Name)
		if err := t.AddData(p, 0o644, m.Image); err != nil {
			return err
		}
		job.Modules = append(job.Modules, p)
	}
	return nil
}

// addJob decides the tmpfs mounts and writes the job. /tmp and /run get a
// tmpfs only when nothing was mirrored below them: the test binary usually
// lives under /tmp/go-build…, and a mount would hide it. The initramfs root
// is in memory anyway, so either way they are writable and start empty.
func addJob(t *Tree, job Job) error {
	for _, d := range []string{"/tmp", "/run"} {
		if !t.HasUnder(d) {
			job.Tmpfs = append(job.Tmpfs, d)
		}
	}
	b, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encoding guest job: %w", err)
	}
	return t.AddData(guestJobPath, 0o644, b)
}

// WriteInitramfs writes the tree as an uncompressed cpio file at path.
// Uncompressed is fastest here: the kernel unpacks it with a memcpy.
func WriteInitramfs(t *Tree, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating initramfs %s: %w", path, err)
	}
	if err := t.WriteCPIO(f); err != nil {
		f.Close()
		return fmt.Errorf("writing initramfs %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing initramfs %s: %w", path, err)
	}
	return nil
}
