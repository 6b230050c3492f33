//go:build e2e

package containerd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Teardown of a private containerd: pods through CRI, leftover shims by
// PID, mounts and files under its temp dir.

// removeAllPods stops and removes every sandbox, so CNI DEL runs for each.
func (r *criRuntime) removeAllPods(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	list, err := r.cri.ListPodSandbox(ctx, &cri.ListPodSandboxRequest{})
	if err != nil {
		t.Errorf("listing pods for cleanup: %v", err)
		return
	}
	for _, sb := range list.GetItems() {
		if _, err := r.cri.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			t.Errorf("cleanup: stopping pod %s: %v", sb.Id, err)
		}
		if _, err := r.cri.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			t.Errorf("cleanup: removing pod %s: %v", sb.Id, err)
		}
	}
}

// removePodsOnceConfigLoads stops and removes every sandbox, retrying the
// stop until containerd has picked up a rewritten conflist (it reloads
// conf_dir on change, asynchronously) so DEL runs with the new config.
func (r *criRuntime) removePodsOnceConfigLoads(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	list, err := r.cri.ListPodSandbox(ctx, &cri.ListPodSandboxRequest{})
	if err != nil {
		t.Fatalf("ListPodSandbox: %v", err)
	}
	for _, sb := range list.GetItems() {
		deadline := time.Now().Add(startTimeout)
		for {
			_, err := r.cri.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: sb.Id})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("StopPodSandbox %s still failing after %v: %v", sb.Id, startTimeout, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if _, err := r.cri.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			t.Fatalf("RemovePodSandbox %s: %v", sb.Id, err)
		}
	}
}

// killLeftoverShims kills, by PID, runc shims our daemon started that
// outlived it (they survive containerd by design). With every pod removed
// there are none; finding one means a pod leaked, which is reported.
func killLeftoverShims(t *testing.T, sock string) {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Errorf("listing processes: %v", err)
		return
	}
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // the process exited meanwhile
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if !isShimOf(args, sock) {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(p, "/proc/%d/cmdline", &pid); err != nil {
			continue
		}
		t.Errorf("containerd shim %d outlived its pods, killing it", pid)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Errorf("killing shim %d: %v", pid, err)
		}
	}
}

func isShimOf(args []string, sock string) bool {
	if len(args) == 0 || !strings.HasSuffix(args[0], "containerd-shim-runc-v2") {
		return false
	}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-address" && args[i+1] == sock {
			return true
		}
	}
	return false
}

// removeRuntimeDir detaches whatever containerd left mounted below dir
// (overlay rootfs, netns bind mounts, shm) and removes the tree.
func removeRuntimeDir(t *testing.T, dir string) {
	t.Helper()
	mounts, err := mountsUnder(dir)
	if err != nil {
		t.Errorf("reading mounts: %v", err)
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(mounts[i], unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", mounts[i], err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Errorf("removing %s: %v", dir, err)
	}
}

// mountsUnder lists mount points below dir in mount order.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append(out, fields[4])
		}
	}
	return out, sc.Err()
}
