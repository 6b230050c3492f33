#!/usr/bin/env bash
# forward-ab.sh: same-CPU TCP_RR, container to container, over vethbridge
# and over the upstream bridge plugin, interleaved, to show what the
# FORWARD hook costs bridged traffic.
#   NOFWD=1  delete vethbridge's FORWARD jump first
#   FWDU=1   add one FORWARD ACCEPT rule to the upstream node
#   DIRECT=1 (with NOFWD=1) give the vethbridge node that same single rule
#   N=8      rounds
# Needs root and `make build bench-tools`. Everything lives in namespaces
# named nst-ab*, removed on exit.
set -euo pipefail
BIN=$(cd "$(dirname "$0")/../.." && pwd)/bin

setup() { # tag plugin subnet
	local t=$1 p=$2 sub=$3 conf
	for n in h a b; do ip netns add "nst-ab$t-$n"; ip -n "nst-ab$t-$n" link set lo up; done
	mkdir -p "/tmp/nst-ab$t"
	conf='{"cniVersion":"1.0.0","name":"ab'$t'","type":"'$p'","bridge":"nstab'$t'","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","dataDir":"/tmp/nst-ab'$t'","subnet":"'$sub'"}}'
	for c in a b; do
		echo "$conf" | ip netns exec "nst-ab$t-h" env CNI_COMMAND=ADD CNI_CONTAINERID="c$c" \
			CNI_NETNS="/var/run/netns/nst-ab$t-$c" CNI_IFNAME=eth0 CNI_PATH="$BIN" "$BIN/$p" >/dev/null
	done
}
rr() { # tag: prints transactions/s of one 2 s run, both ends on CPU 1
	local addr
	addr=$(ip -j -n "nst-ab$1-b" addr show eth0 | jq -r '.[0].addr_info[]|select(.family=="inet")|.local')
	ip netns exec "nst-ab$1-b" taskset -c 1 "$BIN/tcprr" server -listen "$addr:7000" >/dev/null &
	sleep 0.3
	ip netns exec "nst-ab$1-a" taskset -c 1 "$BIN/tcprr" client -connect "$addr:7000" -duration 2s | jq -r '.tps | floor'
	wait
}
cleanup() {
	for t in O U; do
		for n in h a b; do ip netns del "nst-ab$t-$n" 2>/dev/null || true; done
		rm -rf "/tmp/nst-ab$t"
	done
}
trap cleanup EXIT

setup O vethbridge 10.81.0.0/24
setup U bridge 10.82.0.0/24
if [ -n "${NOFWD:-}" ]; then
	rule=$(ip netns exec nst-abO-h iptables -S FORWARD | grep netsteer | sed 's/^-A FORWARD //; s/"//g')
	# shellcheck disable=SC2086 # the rule is a list of arguments
	ip netns exec nst-abO-h iptables -D FORWARD $rule
	echo "==> vethbridge node without its FORWARD jump"
fi
if [ -n "${DIRECT:-}" ]; then
	ip netns exec nst-abO-h iptables -I FORWARD 1 -i nstabO -j ACCEPT
	echo "==> vethbridge node with one FORWARD ACCEPT rule instead of its jump"
fi
if [ -n "${FWDU:-}" ]; then
	ip netns exec nst-abU-h iptables -I FORWARD 1 -i nstabU -j ACCEPT
	echo "==> upstream node with one FORWARD ACCEPT rule"
fi
for _ in $(seq "${N:-8}"); do
	echo "vethbridge=$(rr O) upstream=$(rr U)"
done
