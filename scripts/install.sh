#!/usr/bin/env bash
# install.sh DIR [CMDDIR]: copy our plugins into DIR (normally /opt/cni/bin)
# and, when CMDDIR is given (normally /usr/local/bin), the `netsteer`
# inspection command into CMDDIR.
# Each binary is written to a temp file in its directory and renamed over
# the old one, so a runtime never executes a half-written plugin. A binary
# of the same name that is not ours (e.g. the upstream ipvlan) is kept as
# NAME.netsteer-backup, and we say so.
set -euo pipefail
dest=${1:?usage: install.sh DIR [CMDDIR]}
cmddir=${2:-}
cd "$(dirname "$0")/.."

# install_one SRC DIR IDENTITY: IDENTITY is a literal every build of ours
# carries (pkg/buildinfo), so a foreign binary is told apart without
# running it.
install_one() {
	local src=$1 dir=$2 identity=$3 name target tmp
	[ -f "$src" ] || return 0
	name=$(basename "$src")
	target=$dir/$name
	mkdir -p "$dir"
	if [ -f "$target" ] && cmp -s "$src" "$target"; then
		echo "==> $target is already this version"
		return 0
	fi
	if [ -f "$target" ] && ! grep -qF "$identity" "$target"; then
		cp -p "$target" "$target.netsteer-backup"
		echo "==> $target is not netsteer's; kept it as $target.netsteer-backup"
	fi
	tmp=$(mktemp "$dir/.$name.XXXXXX")
	cp "$src" "$tmp"; chmod 0755 "$tmp"; sync "$tmp"
	mv -f "$tmp" "$target"
	echo "==> installed $target"
}

for name in vethbridge ipvlan; do
	install_one "bin/$name" "$dest" "netsteer $name"
done
if [ -n "$cmddir" ]; then
	install_one bin/netsteer "$cmddir" "netsteer inspect"
fi
