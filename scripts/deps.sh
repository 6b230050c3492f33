#!/usr/bin/env bash
# deps.sh [command=package ...]: install the Debian packages that provide
# missing commands, saying what it does. With no arguments it checks what
# `make demo` and `make test` always need.
set -euo pipefail

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(ip=iproute2 iptables=iptables ip6tables=iptables ping=iputils-ping jq=jq)

missing=()
for pair in "${want[@]}"; do
	cmd=${pair%%=*} pkg=${pair#*=}
	command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	echo "==> note: go is at /usr/local/go/bin; add it to PATH"
fi
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
	echo "==> missing packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "==> installing with apt-get: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "==> installed: ${missing[*]}"
