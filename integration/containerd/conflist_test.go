//go:build e2e

package containerd

import (
	"encoding/json"
	"maps"
)

// The network every test builds. All names carry the nst prefix and the
// addresses come from 10.250.0.0/16, a range nothing else on these machines
// uses, so cleanup can find what is ours by name.
const (
	networkName  = "nst-e2e"
	bridgeName   = "nstctr0"
	podSubnet    = "10.250.0.0/24"
	templateCIDR = "10.250.64.0/24"
	testRange    = "10.250.0.0/16"

	// sysctlKey/sysctlValue: a host tuning a new netns does not inherit
	// (7200 is the netns default), written by vethbridge at ADD.
	sysctlKey   = "net.ipv4.tcp_keepalive_time"
	sysctlValue = "600"
	// rpsCPUs is a CPU list (a dash cannot be a hex mask) naming CPUs 0 and 1;
	// the machines these tests run on have 2 CPUs.
	rpsCPUs = "0-1"
	// rpsFlowCount is a power of two because the kernel rounds
	// rps_flow_cnt up to one and reports the rounded value.
	rpsFlowCount = 256
)

// rpsCPUSet is the set rpsCPUs names.
var rpsCPUSet = []int{0, 1}

// netConf describes the conflist a test's containerd loads.
type netConf struct {
	subnet    string         // host-local subnet; podSubnet when empty
	portmap   bool           // chain portmap with the portMappings capability
	templated bool           // deliver as conf_template with {{.PodCIDR}}
	extra     map[string]any // keys merged into the main plugin's config
}

// render returns the conflist for plugin (vethbridge or the upstream
// bridge). cniVersion is 1.0.0: containerd 1.6's go-cni reads results up to
// that version.
func (n netConf) render(plugin, ipamDir string) ([]byte, error) {
	subnet := n.subnet
	if subnet == "" {
		subnet = podSubnet
	}
	main := map[string]any{
		"type":      plugin,
		"bridge":    bridgeName,
		"isGateway": true,
		"ipMasq":    true,
		"ipam": map[string]any{
			"type":    "host-local",
			"dataDir": ipamDir,
			"ranges":  []any{[]any{map[string]any{"subnet": subnet}}},
			"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
		},
	}
	if plugin == "vethbridge" {
		main["sysctl"] = map[string]any{sysctlKey: sysctlValue}
		main["rps"] = map[string]any{"cpus": rpsCPUs, "flowCount": rpsFlowCount}
		main["noMasqueradeCIDRs"] = []string{testRange}
	}
	maps.Copy(main, n.extra)
	plugins := []any{main}
	if n.portmap {
		plugins = append(plugins, map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}})
	}
	return json.MarshalIndent(map[string]any{"cniVersion": "1.0.0", "name": networkName, "plugins": plugins}, "", "  ")
}
