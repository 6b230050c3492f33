//go:build k8s

package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkNetworkReady breaks the network backends inside the node (iptables
// and nft answer every call with an error, in the node's mount namespace
// only: the config's automatic backend choice would move to the other one
// if only one broke) and expects the runtime's STATUS poll to mark the node
// NotReady with our message, then repairs them and expects the node back.
func (n *node) checkNetworkReady(t *testing.T) {
	broken := filepath.Join(n.dir, "broken-netfilter")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho 'netfilter tools disabled by the netsteer test' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var mounted []string
	repair := func() {
		for _, target := range mounted {
			if _, err := n.inNode("umount", target); err != nil {
				t.Errorf("repairing %s: %v", target, err)
			}
		}
		mounted = nil
	}
	defer repair()
	for _, bin := range []string{"/usr/sbin/iptables", "/usr/sbin/nft"} {
		target, err := n.inNode("readlink", "-f", bin)
		if err != nil {
			t.Fatal(err)
		}
		target = strings.TrimSpace(target)
		if _, err := n.inNode("mount", "--bind", broken, target); err != nil {
			t.Fatal(err)
		}
		mounted = append(mounted, target)
	}
	var msg string
	err := waitFor("node NotReady from STATUS", 2*time.Minute, nil, func() (bool, error) {
		status, m, err := n.nodeCondition("Ready")
		msg = m
		return status == "False" && strings.Contains(m, "NetworkReady=false"), fmt.Errorf("Ready=%s %q (%v)", status, m, err)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "is not usable") {
		t.Errorf("NotReady message %q does not carry netsteer's reason", msg)
	}
	t.Logf("node NotReady: %s", msg)
	repair()
	err = waitFor("node Ready again", 2*time.Minute, nil, func() (bool, error) {
		status, m, err := n.nodeCondition("Ready")
		return status == "True", fmt.Errorf("Ready=%s %q (%v)", status, m, err)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sandboxIDs lists the pod sandboxes the runtime still knows (ctr lists
// them as containers of the k8s.io namespace whose image is the pause image).
func (n *node) sandboxIDs(t *testing.T) []string {
	t.Helper()
	out, err := n.ctr("containers", "list", "-q", "image=="+pauseImage)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, id := range strings.Fields(out) {
		ids = append(ids, id)
	}
	// The DaemonSet's own pod (hostNetwork, no CNI) stays.
	ds, err := n.kubectl("get", "pods", "-n", "kube-system", "-l", "app.kubernetes.io/name=netsteer", "-o", "jsonpath={.items[*].status.containerStatuses[*].containerID}")
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, id := range ids {
		if !strings.Contains(ds, id) {
			keep = append(keep, id)
		}
	}
	return n.withoutHostNetwork(t, keep)
}

// withoutHostNetwork drops the sandboxes of host-network pods: CNI never
// ran for them.
func (n *node) withoutHostNetwork(t *testing.T, ids []string) []string {
	t.Helper()
	var out []string
	for _, id := range ids {
		info, err := n.ctr("containers", "info", id)
		if err != nil {
			continue // removed meanwhile
		}
		if strings.Contains(info, `"io.kubernetes.pod.namespace": "kube-system"`) || strings.Contains(info, `"io.kubernetes.cri.sandbox-namespace": "kube-system"`) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// checkNothingLeft asserts that the deleted pods left no veth, no IPAM
// reservation, no cached CNI result and no netfilter rule naming their
// addresses or sandboxes in the node.
func (n *node) checkNothingLeft(t *testing.T, ips, ids []string) {
	out, err := sh("ip", "-n", n.netns, "-o", "link", "show", "master", "netsteer0")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("links left on netsteer0:\n%s", out)
	}
	res, err := n.inNode("sh", "-c", "ls -A /var/lib/cni/networks/netsteer /var/lib/cni/results 2>/dev/null; true")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(res) {
		if strings.HasSuffix(f, ":") || f == "lock" || strings.HasPrefix(f, "last_reserved_ip") {
			continue
		}
		t.Errorf("left in /var/lib/cni: %s", f)
	}
	err = waitFor("no rule names a deleted pod", time.Minute, nil, func() (bool, error) {
		rules, err := n.rules()
		if err != nil {
			return false, err
		}
		for _, ip := range ips {
			for _, l := range strings.Split(rules, "\n") {
				if strings.Contains(l, ip+"/") || strings.Contains(l, ip+" ") || strings.Contains(l, ip+":") {
					return false, fmt.Errorf("rule names %s: %s", ip, l)
				}
			}
		}
		for _, id := range ids {
			if strings.Contains(rules, id) {
				return false, fmt.Errorf("a rule names sandbox %s", id)
			}
		}
		return true, nil
	})
	if err != nil {
		t.Error(err)
	}
}

// rules dumps the node's netfilter state: iptables-save and, when nft
// exists, every nftables table but kube-proxy's own (its nftables mode
// keeps a deleted endpoint's chain for a while before removing it; that is
// kube-proxy's state, not a per-pod rule of the network's).
func (n *node) rules() (string, error) {
	out, err := n.inNode("iptables-save")
	if err != nil {
		return "", err
	}
	if nft, err := n.inNode("sh", "-c", "command -v nft >/dev/null || exit 0; nft list tables | while read -r _ family name; do [ \"$name\" = kube-proxy ] || nft list table \"$family\" \"$name\"; done"); err == nil {
		out += nft
	}
	return out, nil
}
