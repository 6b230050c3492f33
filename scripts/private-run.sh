#!/usr/bin/env bash
# private-run.sh CMD [ARG...]: run CMD in a mount namespace of its own in
# which /run/netsteer is an empty tmpfs. The plugins keep their node-wide
# records there (the rules lock, cached probes and IPAM STATUS successes,
# ipvlan port records); the test suites and benchmarks run many networks
# and binaries on one machine, and this way leave none of those records
# behind, nor read the machine's own. Network namespaces the command adds
# with `ip netns add` are mounted in that mount namespace too, so they
# cannot outlive it even when the command is killed.
set -euo pipefail
if [ "${NETSTEER_PRIVATE_RUN:-}" = 1 ]; then
	exec "$@"
fi
command -v unshare >/dev/null || { echo "private-run.sh: unshare (util-linux) is missing" >&2; exit 1; }
made=
if [ ! -e /run/netsteer ]; then
	mkdir -m 0700 /run/netsteer
	made=1
fi
rc=0
unshare --mount --propagation private -- env NETSTEER_PRIVATE_RUN=1 \
	sh -c 'mount -t tmpfs -o mode=0700,size=16m nst-run /run/netsteer && exec "$@"' sh "$@" || rc=$?
if [ -n "$made" ]; then
	rmdir /run/netsteer 2>/dev/null || true
fi
exit "$rc"
