//go:build e2e

package containerd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/netsteer/netsteer/integration/pause"
)

// Environment knobs (all optional):
//
//	NETSTEER_E2E_BIN          directory with the CNI binaries (default: the repository's bin/)
//	NETSTEER_E2E_PLUGIN       main plugin type: vethbridge (default) or bridge (upstream)
//	NETSTEER_E2E_PAUSE_IMAGE  OCI layout tar of the sandbox image (default: built here)
//	CI=true                   a missing prerequisite fails the tests instead of skipping them
const (
	envBin        = "NETSTEER_E2E_BIN"
	envPlugin     = "NETSTEER_E2E_PLUGIN"
	envPauseImage = "NETSTEER_E2E_PAUSE_IMAGE"

	// pauseImageName is the sandbox_image every private containerd uses.
	pauseImageName = "localhost/netsteer/pause:e2e"
)

// suite is what TestMain found out once; tests only read it.
type suite struct {
	binDir     string // CNI binaries to copy into each containerd's bin_dir
	plugin     string // "vethbridge" or "bridge"
	pauseImage string // OCI layout tar to import
	missing    string // why the tests cannot run, empty when they can
	ci         bool
}

// env is set by TestMain before any test runs and never written afterwards.
var env suite

func TestMain(m *testing.M) {
	var cleanup func()
	env, cleanup = prepareSuite()
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// requireSuite skips t, or fails it under CI, when a prerequisite is missing.
func requireSuite(t *testing.T) {
	t.Helper()
	if env.missing == "" {
		return
	}
	if env.ci {
		t.Fatalf("prerequisite missing (CI=true makes this a failure): %s", env.missing)
	}
	t.Skipf("prerequisite missing: %s", env.missing)
}

// isVethbridge reports whether the netsteer-only assertions (RPS, sysctls,
// our error messages) apply to the plugin under test.
func isVethbridge() bool { return env.plugin == "vethbridge" }

func prepareSuite() (suite, func()) {
	s := suite{ci: os.Getenv("CI") == "true", plugin: os.Getenv(envPlugin), binDir: os.Getenv(envBin)}
	noop := func() {}
	if s.plugin == "" {
		s.plugin = "vethbridge"
	}
	if s.plugin != "vethbridge" && s.plugin != "bridge" {
		s.missing = fmt.Sprintf("%s=%q: want vethbridge or bridge", envPlugin, s.plugin)
		return s, noop
	}
	if s.binDir == "" {
		// The test binary runs in the package directory; bin/ is two levels up.
		s.binDir = filepath.Join("..", "..", "bin")
	}
	abs, err := filepath.Abs(s.binDir)
	if err != nil {
		s.missing = fmt.Sprintf("resolving %s: %v", s.binDir, err)
		return s, noop
	}
	s.binDir = abs
	if s.missing = missingPrerequisite(s); s.missing != "" {
		return s, noop
	}
	s.pauseImage = os.Getenv(envPauseImage)
	if s.pauseImage != "" {
		return s, noop
	}
	dir, err := os.MkdirTemp("", "nst-pause-")
	if err != nil {
		s.missing = fmt.Sprintf("creating temp dir for the pause image: %v", err)
		return s, noop
	}
	cleanup := func() { os.RemoveAll(dir) }
	if s.pauseImage, err = buildPauseImage(dir); err != nil {
		s.missing = err.Error()
	}
	return s, cleanup
}

func missingPrerequisite(s suite) string {
	if os.Geteuid() != 0 {
		return "not root: containerd, network namespaces and iptables need root"
	}
	for _, tool := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip", "nsenter", "iptables-save", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("%s not in PATH (apt-get install --no-install-recommends containerd runc iproute2 util-linux iptables)", tool)
		}
	}
	for _, bin := range []string{cniBinaryName(s.binDir, s.plugin), "host-local", "loopback", "portmap"} {
		if _, err := os.Stat(filepath.Join(s.binDir, bin)); err != nil {
			return fmt.Sprintf("CNI binary %s missing in %s (run make build or set %s): %v", bin, s.binDir, envBin, err)
		}
	}
	return ""
}

// cniBinaryName is the file in binDir that provides plugin: the Makefile
// installs the upstream bridge as upstream-bridge so it cannot be mistaken
// for ours.
func cniBinaryName(binDir, plugin string) string {
	if plugin == "bridge" {
		if _, err := os.Stat(filepath.Join(binDir, "bridge")); err != nil {
			return "upstream-bridge"
		}
	}
	return plugin
}

// buildPauseImage compiles cmd/nst-pause statically and packs it into dir.
func buildPauseImage(dir string) (string, error) {
	bin := filepath.Join(dir, "nst-pause")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", bin, "github.com/netsteer/netsteer/integration/pause/cmd/nst-pause")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building nst-pause: %v\n%s", err, strings.TrimSpace(string(out)))
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("reading nst-pause: %w", err)
	}
	img := pause.Image{Name: pauseImageName, Binary: data, Path: "/pause", Entrypoint: []string{"/pause"}, OS: "linux", Architecture: runtime.GOARCH}
	out := filepath.Join(dir, "nst-pause.tar")
	f, err := os.Create(out)
	if err != nil {
		return "", fmt.Errorf("creating %s: %w", out, err)
	}
	if err := img.WriteLayout(f); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", out, err)
	}
	return out, nil
}
