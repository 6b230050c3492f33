// Command vethbridge is a CNI plugin that connects a container to a Linux
// bridge through a veth pair, with delegated IPAM, network-wide masquerade
// and forward rules, per-container network sysctls, and RPS/RFS on the
// host end. It accepts the upstream bridge plugin's config. See README.md.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netsteer/netsteer/pkg/buildinfo"
	"github.com/netsteer/netsteer/pkg/delegate"
	"github.com/netsteer/netsteer/pkg/leases"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/oplog"
	"github.com/netsteer/netsteer/pkg/rps"
	"github.com/netsteer/netsteer/pkg/sysctl"
)

func main() {
	if buildinfo.PrintIfAsked("netsteer vethbridge", os.Args[1:], os.Stdout) {
		return
	}
	if err := checkIfName(os.Getenv("CNI_COMMAND"), os.Getenv("CNI_IFNAME")); err != nil {
		_ = err.Print()
		os.Exit(1)
	}
	ncpu, err := rps.PossibleCPUs("/sys")
	if err != nil {
		fmt.Fprintf(os.Stderr, "vethbridge: reading possible CPUs: %v\n", err)
	}
	p := &Plugin{
		Host:      kernelHost{},
		Container: kernelContainer{},
		Firewall:  iptables{},
		IPAM:      delegate.FromEnv(),
		Leases:    leases.HostLocal{Plugins: delegate.FromEnv()},
		Sysctl:    sysctl.FS{Root: "/proc/sys"},
		NCPU:      ncpu,
	}
	opsLog := &oplog.Recorder{Plugin: "vethbridge", Stderr: os.Stderr}
	p.Steps.Observe = opsLog.Step
	skel.PluginMainFuncs(opsLog.Wrap(skel.CNIFuncs{
		Add: p.Add, Del: p.Del, Check: p.Check, GC: p.GC, Status: p.Status,
	}), version.All, buildinfo.About("netsteer vethbridge"))
}

// checkIfName refuses a bad CNI_IFNAME before skel does: skel's message
// ("interface name contains / or : or whitespace characters") names
// neither the variable nor the value, so a runtime's log would not say
// what to fix. An absent one is left to skel, which names it.
func checkIfName(command, ifname string) *types.Error {
	if ifname == "" || command != "ADD" && command != "DEL" && command != "CHECK" {
		return nil
	}
	var te *types.Error
	if err := netconf.ValidateEnvIfName(ifname); errors.As(err, &te) {
		return te
	}
	return nil
}
