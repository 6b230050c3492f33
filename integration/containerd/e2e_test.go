//go:build e2e

package containerd

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestPodsOnBridge runs three pods, checks each one's network as the kernel
// reports it, connects them to each other, and removes them checking that
// DEL left nothing of theirs behind.
func TestPodsOnBridge(t *testing.T) {
	rt := startRuntime(t, netConf{})
	rt.waitNetworkReady(t)

	var pods []pod
	for _, name := range []string{"nst-a", "nst-b", "nst-c"} {
		pods = append(pods, rt.mustRunPod(t, name))
	}
	seen := map[netip.Addr]string{}
	veths := map[string]string{} // pod id -> host veth
	for _, p := range pods {
		if other, dup := seen[p.ip]; dup {
			t.Fatalf("pods %s and %s both got %s", other, p.name, p.ip)
		}
		seen[p.ip] = p.name
		veths[p.id] = checkPodNetwork(t, rt, p, podSubnet)
	}

	for i, from := range pods {
		to := pods[(i+1)%len(pods)]
		want := "hello from " + to.name
		addr := listenIn(t, to.netns, net.JoinHostPort(to.ip.String(), "0"), want)
		got, err := readFrom(from.netns, addr.String())
		if err != nil || got != want {
			t.Errorf("%s -> %s (%s): got %q, %v; want %q", from.name, to.name, addr, got, err, want)
		}
	}

	for _, p := range pods {
		rt.removePod(t, p)
		checkPodGone(t, rt, p, veths[p.id])
	}
	if left := rt.allReservations(t); len(left) != 0 {
		t.Errorf("host-local reservations left after removing every pod: %v", left)
	}
}

// TestConfTemplate checks the kubelet's path for a node's pod CIDR:
// UpdateRuntimeConfig makes containerd render conf_template into conf_dir,
// and the next pod's address comes from that CIDR.
func TestConfTemplate(t *testing.T) {
	rt := startRuntime(t, netConf{templated: true})
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	st, err := rt.cri.Status(ctx, &cri.StatusRequest{})
	if err != nil {
		t.Fatalf("CRI Status: %v", err)
	}
	if condition(st.GetStatus(), cri.NetworkReady) {
		t.Fatalf("network ready before any config was rendered: %v", st.GetStatus())
	}

	_, err = rt.cri.UpdateRuntimeConfig(ctx, &cri.UpdateRuntimeConfigRequest{RuntimeConfig: &cri.RuntimeConfig{
		NetworkConfig: &cri.NetworkConfig{PodCidr: templateCIDR},
	}})
	if err != nil {
		t.Fatalf("UpdateRuntimeConfig: %v", err)
	}
	// containerd 1.6 names the rendered file itself.
	rendered, err := os.ReadFile(filepath.Join(rt.confDir, "10-containerd-net.conflist"))
	if err != nil {
		t.Fatalf("reading rendered conflist: %v", err)
	}
	if !strings.Contains(string(rendered), `"subnet": "`+templateCIDR+`"`) {
		t.Fatalf("rendered conflist lacks subnet %s:\n%s", templateCIDR, rendered)
	}
	rt.waitNetworkReady(t)

	p := rt.mustRunPod(t, "nst-templated")
	veth := checkPodNetwork(t, rt, p, templateCIDR)
	rt.removePod(t, p)
	checkPodGone(t, rt, p, veth)
}

// TestHostPort chains portmap after our plugin and reaches a listener in the
// pod through the host port, from the host.
func TestHostPort(t *testing.T) {
	rt := startRuntime(t, netConf{portmap: true})
	rt.waitNetworkReady(t)

	const containerPort = 8080
	hostPort := freeHostPort(t)
	p := rt.mustRunPod(t, "nst-web", &cri.PortMapping{Protocol: cri.Protocol_TCP, ContainerPort: containerPort, HostPort: hostPort})
	veth := checkPodNetwork(t, rt, p, podSubnet)
	const want = "hello through the host port"
	listenIn(t, p.netns, net.JoinHostPort("0.0.0.0", strconv.Itoa(containerPort)), want)

	// portmap DNATs locally originated traffic to any local address in
	// OUTPUT. 127.0.0.1 additionally relies on portmap setting
	// route_localnet on the bridge and masquerading 127/8 (its SNAT
	// default); the gateway address needs neither. Both are what users try.
	port := strconv.Itoa(int(hostPort))
	targets := []string{net.JoinHostPort(bridgeAddress(t).String(), port), net.JoinHostPort("127.0.0.1", port)}
	for _, addr := range targets {
		got, err := readFrom("", addr)
		if err != nil || got != want {
			t.Errorf("host -> %s: got %q, %v; want %q", addr, got, err, want)
		}
	}

	rt.removePod(t, p)
	checkPodGone(t, rt, p, veth)
	for _, addr := range targets {
		if got, err := readFrom("", addr); err == nil {
			t.Errorf("host -> %s still answers %q after the pod was removed", addr, got)
		}
	}
}

// TestBrokenConfig checks that a config our plugin rejects fails
// RunPodSandbox with the plugin's own message and leaves nothing behind.
func TestBrokenConfig(t *testing.T) {
	// The upstream bridge ignores keys it does not know, so it gets a broken
	// value of one of its own keys instead.
	extra, wantMsg := map[string]any{"rps": map[string]any{"cpus": "zzz"}}, "zzz"
	if !isVethbridge() {
		extra, wantMsg = map[string]any{"vlan": -1}, "invalid VLAN ID -1"
	}
	rt := startRuntime(t, netConf{extra: extra})
	rt.waitNetworkReady(t)

	_, err := rt.runPod(t, "nst-broken")
	if err == nil {
		t.Fatal("RunPodSandbox succeeded with a broken network config")
	}
	t.Logf("RunPodSandbox error: %v", err)
	if !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("RunPodSandbox error does not contain %q: %v", wantMsg, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	list, err := rt.cri.ListPodSandbox(ctx, &cri.ListPodSandboxRequest{})
	if err != nil {
		t.Fatalf("ListPodSandbox: %v", err)
	}
	for _, sb := range list.GetItems() {
		// containerd 1.6 keeps the sandbox record (NOTREADY) when its
		// rollback DEL fails too, which it does with a config that does not
		// parse; the kubelet removes it later. A READY one would be a bug.
		if sb.GetState() == cri.PodSandboxState_SANDBOX_READY {
			t.Errorf("sandbox %s ready after the failed RunPodSandbox", sb.GetId())
		}
	}
	if ports := portsOnBridge(t); len(ports) != 0 {
		t.Errorf("interfaces left on %s: %v", bridgeName, ports)
	}
	if left := rt.allReservations(t); len(left) != 0 {
		t.Errorf("host-local reservations left: %v", left)
	}
	cached, err := filepath.Glob(filepath.Join(libcniCacheDir, "results", networkName+"-*"))
	if err != nil {
		t.Fatalf("globbing CNI cache: %v", err)
	}
	if len(cached) != 0 {
		t.Errorf("CNI results cached for the failed pod: %v", cached)
	}
	if rules := rulesMentioning(t, networkName); len(rules) != 0 {
		t.Errorf("firewall rules naming %s left: %v", networkName, rules)
	}

	// What an operator does next: fix the config. Then every sandbox record
	// of the failed attempt must go away through the normal path.
	rt.writeNetworkConfig(t, netConf{})
	rt.removePodsOnceConfigLoads(t)
}

// checkPodNetwork asserts what ADD must have built for p and returns the
// name of the pod's host veth.
func checkPodNetwork(t *testing.T, rt *criRuntime, p pod, subnet string) string {
	t.Helper()
	prefix := netip.MustParsePrefix(subnet)
	if !prefix.Contains(p.ip) {
		t.Errorf("pod %s IP %s (PodSandboxStatus) outside %s", p.name, p.ip, subnet)
	}
	links, err := ipLinks(p.netns, "dev", "eth0")
	if err != nil || len(links) != 1 {
		t.Fatalf("pod %s eth0: %v %v", p.name, links, err)
	}
	eth0 := links[0]
	if !hasAddress(eth0, p.ip, prefix.Bits()) {
		t.Errorf("pod %s eth0 addresses %+v, want %s/%d", p.name, eth0.AddrInfo, p.ip, prefix.Bits())
	}

	var veth string
	for _, port := range portsOnBridge(t) {
		if port.Ifindex == eth0.LinkIndex {
			veth = port.Ifname
		}
	}
	if veth == "" {
		t.Fatalf("pod %s: peer of eth0 (ifindex %d) is not on %s", p.name, eth0.LinkIndex, bridgeName)
	}
	if isVethbridge() {
		checkNetsteerExtras(t, p, veth)
	}
	if got := rt.reservations(t, p.id); !slices.Equal(got, []string{p.ip.String()}) {
		t.Errorf("pod %s host-local reservations %v, want [%s]", p.name, got, p.ip)
	}
	if got := cacheFiles(t, p.id); len(got) == 0 {
		t.Errorf("pod %s: no CNI result cached under %s/results", p.name, libcniCacheDir)
	}
	return veth
}

// checkNetsteerExtras asserts vethbridge's own settings: RPS/RFS on the
// host veth's receive queue and the sysctl inside the pod netns.
func checkNetsteerExtras(t *testing.T, p pod, veth string) {
	t.Helper()
	queue := filepath.Join("/sys/class/net", veth, "queues", "rx-0")
	mask, err := os.ReadFile(filepath.Join(queue, "rps_cpus"))
	if err != nil {
		t.Fatalf("reading RPS mask of %s: %v", veth, err)
	}
	if got, err := maskCPUs(strings.TrimSpace(string(mask))); err != nil || !slices.Equal(got, rpsCPUSet) {
		t.Errorf("%s rx-0 rps_cpus = %q (CPUs %v, %v), want CPUs %v", veth, mask, got, err, rpsCPUSet)
	}
	flows, err := os.ReadFile(filepath.Join(queue, "rps_flow_cnt"))
	if err != nil {
		t.Fatalf("reading rps_flow_cnt of %s: %v", veth, err)
	}
	if got := strings.TrimSpace(string(flows)); got != strconv.Itoa(rpsFlowCount) {
		t.Errorf("%s rx-0 rps_flow_cnt = %s, want %d", veth, got, rpsFlowCount)
	}
	out, err := run(inNetns(p.netns, "cat", "/proc/sys/"+strings.ReplaceAll(sysctlKey, ".", "/"))...)
	if err != nil {
		t.Fatalf("reading %s in pod %s: %v", sysctlKey, p.name, err)
	}
	if got := strings.TrimSpace(out); got != sysctlValue {
		t.Errorf("pod %s %s = %s, want %s", p.name, sysctlKey, got, sysctlValue)
	}
}

// checkPodGone asserts that after StopPodSandbox+RemovePodSandbox nothing of
// p is left: host veth, address reservation, libcni cache, firewall rules.
func checkPodGone(t *testing.T, rt *criRuntime, p pod, veth string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("/sys/class/net", veth)); !os.IsNotExist(err) {
		t.Errorf("host veth %s of removed pod %s still exists (stat: %v)", veth, p.name, err)
	}
	if got := rt.reservations(t, p.id); len(got) != 0 {
		t.Errorf("host-local reservations of removed pod %s: %v", p.name, got)
	}
	if got := cacheFiles(t, p.id); len(got) != 0 {
		t.Errorf("CNI cache of removed pod %s: %v", p.name, got)
	}
	if got := rulesMentioning(t, p.id); len(got) != 0 {
		t.Errorf("firewall rules of removed pod %s: %v", p.name, got)
	}
}

func hasAddress(l ipLink, ip netip.Addr, bits int) bool {
	for _, a := range l.AddrInfo {
		if a.Family == "inet" && a.Local == ip.String() && a.Prefixlen == bits {
			return true
		}
	}
	return false
}

// bridgeAddress is the test bridge's IPv4 address (the pods' gateway).
func bridgeAddress(t *testing.T) netip.Addr {
	t.Helper()
	links, err := ipLinks("", "dev", bridgeName)
	if err != nil || len(links) != 1 {
		t.Fatalf("reading %s: %v %v", bridgeName, links, err)
	}
	for _, a := range links[0].AddrInfo {
		if a.Family == "inet" {
			return netip.MustParseAddr(a.Local)
		}
	}
	t.Fatalf("%s has no IPv4 address: %+v", bridgeName, links[0].AddrInfo)
	return netip.Addr{}
}

// freeHostPort returns a TCP port nothing on the host listens on right now.
func freeHostPort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

// maskCPUs decodes a kernel CPU mask ("3", "00000003", "1,00000000":
// comma-separated 32-bit hex groups, most significant first) into CPU numbers.
func maskCPUs(mask string) ([]int, error) {
	groups := strings.Split(mask, ",")
	var cpus []int
	for i, g := range groups {
		v, err := strconv.ParseUint(g, 16, 32)
		if err != nil {
			return nil, err
		}
		base := 32 * (len(groups) - 1 - i)
		for bit := range 32 {
			if v&(1<<bit) != 0 {
				cpus = append(cpus, base+bit)
			}
		}
	}
	slices.Sort(cpus)
	return cpus, nil
}
