// Command vethbridge is a CNI plugin that connects a container to a Linux
// bridge through a veth pair, with delegated IPAM, network-wide masquerade
// and forward rules, per-container network sysctls, and RPS/RFS on the
// host end. It accepts the upstream bridge plugin's config. See README.md.
package main

import (
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netsteer/netsteer/pkg/buildinfo"
	"github.com/netsteer/netsteer/pkg/delegate"
	"github.com/netsteer/netsteer/pkg/ipam"
	"github.com/netsteer/netsteer/pkg/leases"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/netns"
	"github.com/netsteer/netsteer/pkg/oplog"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

func main() {
	if buildinfo.PrintIfAsked("netsteer vethbridge", os.Args[1:], os.Stdout) {
		return
	}
	if err := netconf.PrepareEnv(); err != nil {
		_ = err.Print()
		os.Exit(1)
	}
	plugins := delegate.FromEnv()
	p := &Plugin{
		Host:         kernelHost{},
		Container:    kernelContainer{proc: sysctl.FS{Root: "/proc/sys"}},
		Firewall:     netfilter{},
		SpoofCheck:   kernelSpoofCheck{},
		IPAM:         ipam.NodeStatusCache(plugins, plugins.Identity),
		Leases:       leases.HostLocal{Plugins: plugins},
		Sysctl:       sysctl.FS{Root: "/proc/sys"},
		PossibleCPUs: func() (int, error) { return rps.PossibleCPUs("/sys") },
		OpenNetns:    netns.Open,
	}
	opsLog := &oplog.Recorder{Plugin: "vethbridge", Stderr: os.Stderr}
	p.Steps.Observe = opsLog.Step
	skel.PluginMainFuncs(opsLog.Wrap(skel.CNIFuncs{
		Add: p.Add, Del: p.Del, Check: p.Check, GC: p.GC, Status: p.Status,
	}), version.PluginSupports(supportedVersions...), buildinfo.About("netsteer vethbridge"))
}
