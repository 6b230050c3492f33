#!/usr/bin/env bash
# require-root.sh WHAT: the root-only test suites need real namespaces.
# Outside CI a non-root run stops here with the reason; in CI it fails.
if [ "$(id -u)" -ne 0 ]; then
	echo "==> $1 tests need root (network namespaces, netlink, iptables); run: sudo make test" >&2
	exit 1
fi
