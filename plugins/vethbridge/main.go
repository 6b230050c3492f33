// Command vethbridge is a CNI plugin that connects a container to a Linux
// bridge through a veth pair, with delegated IPAM, network-wide masquerade
// and forward rules, per-container network sysctls, and RPS/RFS on the
// host end. It accepts the upstream bridge plugin's config. See README.md.
package main

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/netsteer/netsteer/pkg/delegate"
	"github.com/netsteer/netsteer/pkg/ipam"
	"github.com/netsteer/netsteer/pkg/leases"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/pluginmain"
	"github.com/netsteer/netsteer/pkg/podns"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

func main() {
	pluginmain.Prepare("vethbridge")
	plugins := delegate.FromEnv()
	p := &Plugin{
		Host:         kernelHost{},
		Container:    kernelContainer{podns.Kernel{Proc: sysctl.FS{Root: "/proc/sys"}}},
		Firewall:     netfilter{},
		SpoofCheck:   kernelSpoofCheck{},
		IPAM:         ipam.NodeStatusCache(plugins, plugins.Identity),
		Leases:       leases.HostLocal{Plugins: plugins},
		Sysctl:       sysctl.FS{Root: "/proc/sys"},
		PossibleCPUs: func() (int, error) { return rps.PossibleCPUs("/sys") },
		OpenNetns:    netns.Open,
	}
	pluginmain.Serve("vethbridge", &p.Steps.Observe, skel.CNIFuncs{
		Add: p.Add, Del: p.Del, Check: p.Check, GC: p.GC, Status: p.Status,
	}, supportedVersions)
}
