// Command ipvlan is a CNI plugin that puts a container directly on a host
// interface with an ipvlan link (L2, L3 or L3S mode), with delegated IPAM
// and per-container network sysctls. It accepts the upstream ipvlan
// plugin's config and owns no object outside the container's netns.
// See README.md.
package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/delegate"
	"github.com/netsteer/netsteer/pkg/ipam"
	"github.com/netsteer/netsteer/pkg/leases"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/pluginmain"
	"github.com/netsteer/netsteer/pkg/podns"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

func main() {
	pluginmain.Prepare("ipvlan")
	plugins := delegate.FromEnv()
	p := &Plugin{
		Masters:   kernelMasters{},
		Container: kernelContainer{podns.Kernel{Proc: sysctl.FS{Root: "/proc/sys"}}},
		IPAM:      ipam.NodeStatusCache(plugins, plugins.Identity),
		Leases:    leases.HostLocal{Plugins: plugins},
		Sysctl:    sysctl.FS{Root: "/proc/sys"},
		OpenNetns: netns.Open,
		Ports:     portBook{Dir: "/run/netsteer"},
	}
	pluginmain.Serve("ipvlan", &p.Steps.Observe, skel.CNIFuncs{
		Add: p.Add, Del: p.Del, Check: p.Check, GC: p.GC, Status: p.Status,
	}, supportedVersions)
}
