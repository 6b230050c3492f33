package netconf

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// kernelGatedPodSysctls are default-allowlist entries that are safe only
// from the Linux release that made them per network namespace. Before it,
// the key is the node's one global value, and a pod writing it would
// retune every socket on the node. The kubelet drops such entries from its
// safe list on older kernels; so do we, at ADD, where the node's release
// can be read. Kubernetes 1.37 added these two.
var kernelGatedPodSysctls = []struct {
	name      string
	minKernel kernelRelease
}{
	{"net.ipv4.tcp_slow_start_after_idle", kernelRelease{4, 15}},
	{"net.ipv4.tcp_notsent_lowat", kernelRelease{4, 6}},
}

// kernelRelease is a Linux release's major and minor number.
type kernelRelease struct{ major, minor int }

func (r kernelRelease) String() string { return fmt.Sprintf("%d.%d", r.major, r.minor) }

func (r kernelRelease) atLeast(o kernelRelease) bool {
	return r.major > o.major || r.major == o.major && r.minor >= o.minor
}

// parseKernelRelease reads "6.18.44-fc-v782" (kernel/osrelease) as 6.18.
func parseKernelRelease(s string) (kernelRelease, error) {
	fields := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(fields) < 2 {
		return kernelRelease{}, fmt.Errorf("kernel release %q: want major.minor", s)
	}
	minor := fields[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	maj, err1 := strconv.Atoi(fields[0])
	min, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return kernelRelease{}, fmt.Errorf("kernel release %q: want major.minor", s)
	}
	return kernelRelease{maj, min}, nil
}

// defaultPodAllowlist is the allowlist used when the config has none:
// DefaultPodSysctls and the kernel-gated entries (gated in gatePodSysctls).
func defaultPodAllowlist() []string {
	out := append([]string(nil), DefaultPodSysctls...)
	for _, g := range kernelGatedPodSysctls {
		out = append(out, g.name)
	}
	return out
}

// gatePodSysctls refuses a pod's key that only a kernel-gated default
// entry allows when the node's release (kernel/osrelease under the host's
// sysctl root) is older than the entry's, or cannot be read. An operator's
// own allowedPodSysctls is taken as written.
func (c SysctlConf) gatePodSysctls(host sysctl.FS, pod map[string]string) error {
	if c.AllowedPodSysctls != nil {
		return nil
	}
	var release *kernelRelease
	for _, g := range kernelGatedPodSysctls {
		if _, set := pod[g.name]; !set || matchAny(DefaultPodSysctls, g.name) {
			continue
		}
		if release == nil {
			r, err := readKernelRelease(host)
			if err != nil {
				return cnierr.InvalidConfig("args.cni.sysctl", g.name,
					fmt.Sprintf("allowed by default only from Linux %s, and the node's release is unknown: %v", g.minKernel, err))
			}
			release = &r
		}
		if !release.atLeast(g.minKernel) {
			return cnierr.InvalidConfig("args.cni.sysctl", g.name,
				fmt.Sprintf("allowed by default only from Linux %s, where it is per network namespace; this node runs %s", g.minKernel, release))
		}
	}
	return nil
}

func readKernelRelease(host sysctl.FS) (kernelRelease, error) {
	if host.Root == "" {
		return kernelRelease{}, fmt.Errorf("sysctl root is not set")
	}
	b, err := os.ReadFile(filepath.Join(host.Root, "kernel", "osrelease"))
	if err != nil {
		return kernelRelease{}, err
	}
	return parseKernelRelease(string(b))
}
