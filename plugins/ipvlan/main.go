// Command ipvlan is a CNI plugin that puts a container directly on a host
// interface with an ipvlan link (L2, L3 or L3S mode), with delegated IPAM
// and per-container network sysctls. It accepts the upstream ipvlan
// plugin's config and owns no object outside the container's netns.
// See README.md.
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
	"github.com/netsteer/netsteer/pkg/sysctl"
)

func main() {
	if buildinfo.PrintIfAsked("netsteer ipvlan", os.Args[1:], os.Stdout) {
		return
	}
	if err := netconf.PrepareEnv(); err != nil {
		_ = err.Print()
		os.Exit(1)
	}
	plugins := delegate.FromEnv()
	p := &Plugin{
		Masters:   kernelMasters{},
		Container: kernelContainer{proc: sysctl.FS{Root: "/proc/sys"}},
		IPAM:      ipam.NodeStatusCache(plugins, plugins.Identity),
		Leases:    leases.HostLocal{Plugins: plugins},
		Sysctl:    sysctl.FS{Root: "/proc/sys"},
		OpenNetns: netns.Open,
	}
	opsLog := &oplog.Recorder{Plugin: "ipvlan", Stderr: os.Stderr}
	p.Steps.Observe = opsLog.Step
	skel.PluginMainFuncs(opsLog.Wrap(skel.CNIFuncs{
		Add: p.Add, Del: p.Del, Check: p.Check, GC: p.GC, Status: p.Status,
	}), version.PluginSupports(supportedVersions...), buildinfo.About("netsteer ipvlan"))
}
