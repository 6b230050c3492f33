// Package podns is what both plugins do the same way inside a pod's
// network namespace: look a link up by name, write the pod's sysctls, and
// read back a link's L3 state and sysctls for CHECK. Each call enters the
// namespace on a locked thread through netns.NS. The plugins embed Kernel
// in their own adapters and declare their own interfaces over it.
package podns

import (
	"github.com/vishvananda/netlink"

	"github.com/netsteer/netsteer/pkg/ifstate"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/nlx"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

// Kernel acts on netlink and procfs inside a pod's netns.
type Kernel struct {
	// Proc is /proc/sys; read and written on a thread inside the pod's
	// netns, it shows that namespace's net.* values.
	Proc sysctl.FS
}

// Link is a link as read inside a pod's netns, with its L3 state and the
// sysctls asked for.
type Link struct {
	netlink.Link
	L3      ifstate.L3
	Sysctls map[sysctl.Key]string
}

// HasLink reports whether target holds a link called ifname.
func (Kernel) HasLink(target *netns.NS, ifname string) (bool, error) {
	return nlx.HasLink(target, ifname)
}

// WriteSysctls writes settings inside target.
func (k Kernel) WriteSysctls(target *netns.NS, settings []sysctl.Setting) error {
	return target.Do(func() error { return k.Proc.WriteSettings(settings) })
}

// ReadLink reads the link ifname in target, its addresses and routes, and
// the values of keys.
func (k Kernel) ReadLink(target *netns.NS, ifname string, keys []sysctl.Key) (Link, error) {
	var out Link
	err := target.Do(func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		out.Link = l
		if out.L3, err = nlx.ReadL3(l); err != nil {
			return err
		}
		out.Sysctls, err = k.Proc.ReadKeys(keys)
		return err
	})
	return out, err
}
