#!/usr/bin/env bash
# demo.sh: attach two namespaces to the default network in conf/ through
# cnitool, show what vethbridge set up, then DEL and show nothing is left.
# Everything happens in namespaces named nst-demo-*, removed on exit; the
# node's own network namespace is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (network namespaces)"; exit 1; }

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '    $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/      /'; }

NODE=nst-demo-node A=nst-demo-a B=nst-demo-b OUT=nst-demo-out
WORK=$(mktemp -d /tmp/nst-demo-XXXXXX)
cleanup() {
	for ns in $NODE $A $B $OUT; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
cleanup; WORK=$(mktemp -d /tmp/nst-demo-XXXXXX)

step "Using conf/10-netsteer.conflist (host-local's dataDir moved to $WORK so the demo owns it)"
mkdir -p "$WORK/net.d" "$WORK/ipam"
jq --arg d "$WORK/ipam" '.plugins[0].ipam.dataDir = $d' conf/10-netsteer.conflist > "$WORK/net.d/10-netsteer.conflist"
show jq -c '.plugins[0] | del(.ipam)' "$WORK/net.d/10-netsteer.conflist"

step "Creating a node namespace, two pod namespaces and an 'outside' host (192.0.2.2, reachable via the node's 192.0.2.1)"
for ns in $NODE $A $B $OUT; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n $NODE link add nstup0 type veth peer name nstup1 netns $OUT
ip -n $NODE addr add 192.0.2.1/24 dev nstup0; ip -n $NODE link set nstup0 up
ip -n $OUT addr add 192.0.2.2/24 dev nstup1; ip -n $OUT link set nstup1 up
ip netns exec $NODE sysctl -qw net.ipv4.tcp_keepalive_time=600
echo "    node tcp_keepalive_time=600 (a fresh netns would show 7200)"

cni() { ip netns exec $NODE env NETCONFPATH="$WORK/net.d" CNI_PATH="$BIN" CNI_CACHE_DIR="$WORK/cache" "$BIN/cnitool" "$@"; }

step "ADD: attaching $A and $B to network 'netsteer'"
cni add netsteer /var/run/netns/$A | jq -c '{interfaces: [.interfaces[].name], ips: [.ips[].address]}' | sed 's/^/      /'
cni add netsteer /var/run/netns/$B >/dev/null
IPA=$(ip -j -n $A addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')
IPB=$(ip -j -n $B addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')

step "The pod's interface and routes"
show ip -n $A -br addr show eth0
show ip -n $A route

step "Ping the gateway and the other pod"
show ip netns exec $A ping -c1 -W2 10.22.0.1
show ip netns exec $A ping -c1 -W2 "$IPB"

step "A connection to the outside host carries the node's address (masquerade), not the pod's $IPA"
ip netns exec $OUT "$BIN/nst-peer" listen 192.0.2.2:8080 > "$WORK/peer.out" &
sleep 0.3
ip netns exec $A "$BIN/nst-peer" dial 192.0.2.2:8080
wait
sed 's/^/      /' "$WORK/peer.out"

step "Sysctls inside the pod: keepalive inherited from the node, fin_timeout from the config"
show ip netns exec $A sysctl net.ipv4.tcp_keepalive_time net.ipv4.tcp_fin_timeout

step "Receive steering on the host end of the veth (rps_cpus, rps_flow_cnt per rx queue)"
VETH=$(ip -j -n $NODE link show type veth | jq -r '.[] | select(.ifname | startswith("nsv")) | .ifname' | head -n1)
show ip netns exec $NODE sh -c "for q in /sys/class/net/$VETH/queues/rx-*; do echo \$q: rps_cpus=\$(cat \$q/rps_cpus) rps_flow_cnt=\$(cat \$q/rps_flow_cnt); done"

step "The network's netfilter rules (one set per network, not per pod)"
ip netns exec $NODE iptables-save | grep -E 'NSTR|netsteer' | sed 's/^/      /'

step "CHECK"
cni check netsteer /var/run/netns/$A && echo "      CHECK passed"

step "DEL both pods"
cni del netsteer /var/run/netns/$A
cni del netsteer /var/run/netns/$B

step "Nothing of the pods is left"
echo "      host veths (nsv*): $(ip -j -n $NODE link show type veth | jq '[.[] | select(.ifname | startswith("nsv"))] | length')"
echo "      host-local reservations: $(find "$WORK/ipam" -type f ! -name lock ! -name 'last_reserved_ip*' | wc -l)"
echo "      eth0 in $A: $(ip -n $A link show eth0 >/dev/null 2>&1 && echo present || echo gone)"

step "Done; removing the demo namespaces"
