package netconf

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// CheckNetns reports whether path names a network namespace other than the
// one the plugin runs in. It runs before anything is touched: configuring
// "the container" in the host namespace would rewire the node itself.
func CheckNetns(path string) error {
	if path == "" {
		return cnierr.InvalidEnv("CNI_NETNS", path, "required for this command")
	}
	var target, self unix.Stat_t
	if err := unix.Stat(path, &target); err != nil {
		return cnierr.InvalidEnv("CNI_NETNS", path, fmt.Sprintf("cannot stat: %v", err))
	}
	if !isNetns(path) {
		return cnierr.InvalidEnv("CNI_NETNS", path, "not a network namespace")
	}
	if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
		return cnierr.InvalidEnv("CNI_NETNS", path, fmt.Sprintf("cannot stat own netns: %v", err))
	}
	if target.Dev == self.Dev && target.Ino == self.Ino {
		return cnierr.InvalidEnv("CNI_NETNS", path, "is the plugin's own (host) network namespace")
	}
	return nil
}

// nsGetNSType is NS_GET_NSTYPE from <linux/nsfs.h>: which kind of namespace
// an nsfs file is. A bind-mounted mount namespace is nsfs too.
const nsGetNSType = 0xb703

func isNetns(path string) bool {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	kind, err := unix.IoctlRetInt(fd, nsGetNSType)
	return err == nil && kind == unix.CLONE_NEWNET
}
