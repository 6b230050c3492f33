package netconf

import (
	"cmp"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Validated returns c when every check passes in order, else the first
// check's error and the zero C: the tail of both plugins' Load and
// LoadRelease.
func Validated[C any](c C, checks ...func() error) (C, error) {
	for _, check := range checks {
		if err := check(); err != nil {
			var zero C
			return zero, err
		}
	}
	return c, nil
}

// ForAttachment runs load and then checks CNI_CONTAINERID and CNI_IFNAME
// (ValidateAttachment), so every verb that acts on one attachment refuses
// a bad config before a bad environment, the same way in both plugins.
func ForAttachment[C any](args *skel.CmdArgs, load func() (C, error)) (C, error) {
	c, err := load()
	if err != nil {
		return c, err
	}
	return Validated(c, func() error { return ValidateAttachment(args.ContainerID, args.IfName) })
}

// RequirePrevResult refuses a CHECK without ADD's result (code 7) or with
// one past the bounds (issue 9: CHECK's work stays bounded).
func RequirePrevResult(prev *current.Result) error {
	if prev == nil {
		return cnierr.InvalidConfig("prevResult", "(absent)", "CHECK needs the result of ADD")
	}
	return CheckResultBounds(prev)
}

// Early is what both plugins' ADD checks before its first side effect,
// beyond the config itself.
type Early struct {
	IfName     string          // CNI_IFNAME
	PrevResult *current.Result // the config's prevResult, or nil
	Sysctls    SysctlConf
	PodSysctls map[string]string
}

// Refuse checks, changing nothing: CNI_IFNAME is a literal link name,
// prevResult within bounds, and the sysctls resolvable against the host
// (inherited keys exist, are writable and stay in the pod's netns). A
// request ADD would refuse half-way is so refused with nothing to roll
// back (issue 9).
func (e Early) Refuse(host sysctl.FS) error {
	if err := cmp.Or(ValidateNewIfName(e.IfName), CheckResultBounds(e.PrevResult)); err != nil {
		return err
	}
	if _, err := e.Sysctls.Resolve(host, e.IfName, e.PodSysctls); err != nil {
		return cnierr.Wrap(cnierr.Kernel, err)
	}
	return nil
}

// IfNameFree is ADD's answer to the lookup of CNI_IFNAME in CNI_NETNS
// (exists and err, as the lookup returned them): a lookup error is a
// kernel error, an existing interface a bad CNI_IFNAME (code 4). That
// interface is not ours, so the refusal rolls nothing back.
func IfNameFree(args *skel.CmdArgs, exists bool, err error) error {
	if err != nil {
		return cnierr.Wrap(cnierr.Kernel, fmt.Errorf("looking up %s in %s: %w", args.IfName, args.Netns, err))
	}
	if exists {
		return cnierr.InvalidEnv("CNI_IFNAME", args.IfName, "an interface of that name already exists in CNI_NETNS")
	}
	return nil
}

// InNetns is the frame of ADD and CHECK: load the config and CNI args
// (a bad config is refused before CNI_NETNS is touched), open CNI_NETNS
// once with open, and run verb with both; the netns is closed after.
func InNetns[C any](args *skel.CmdArgs, load func(*skel.CmdArgs) (C, error), open func(string) (*netns.NS, error), verb func(C, *netns.NS) error) error {
	c, err := load(args)
	if err != nil {
		return err
	}
	return netns.With(open, args.Netns, func(target *netns.NS) error { return verb(c, target) })
}
