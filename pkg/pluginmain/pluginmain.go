// Package pluginmain is the process frame both plugin binaries share
// around their own wiring: answering --version, refusing a bad
// environment before skel, and serving the verbs under skel with the
// operations log (pkg/oplog) recording each verb and each ADD step.
package pluginmain

import (
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netsteer/netsteer/pkg/buildinfo"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/oplog"
	"github.com/netsteer/netsteer/pkg/steps"
)

// Prepare answers --version and refuses a bad CNI_IFNAME or takes
// CNI_NETNS checking over from skel (netconf.PrepareEnv). It exits the
// process after answering or refusing, and returns when the plugin should
// run. plugin is the binary's name, e.g. "ipvlan".
func Prepare(plugin string) {
	if buildinfo.PrintIfAsked("netsteer "+plugin, os.Args[1:], os.Stdout) {
		os.Exit(0)
	}
	if err := netconf.PrepareEnv(); err != nil {
		_ = err.Print()
		os.Exit(1)
	}
}

// Serve runs funcs under skel for the supported config versions, with
// every verb recorded by the operations log and every ADD step reported
// to it through observe.
func Serve(plugin string, observe *steps.Observer, funcs skel.CNIFuncs, supported []string) {
	log := &oplog.Recorder{Plugin: plugin, Stderr: os.Stderr}
	*observe = log.Step
	skel.PluginMainFuncs(log.Wrap(funcs), version.PluginSupports(supported...), buildinfo.About("netsteer "+plugin))
}
