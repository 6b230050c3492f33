#!/usr/bin/env bash
# install.sh DIR: copy our plugins into DIR (normally /opt/cni/bin).
# Each binary is written to a temp file in DIR and renamed over the old
# one, so a runtime never executes a half-written plugin. A binary of the
# same name that is not ours (e.g. the upstream ipvlan) is kept as
# NAME.netsteer-backup, and we say so.
set -euo pipefail
dest=${1:?usage: install.sh DIR}
cd "$(dirname "$0")/.."
mkdir -p "$dest"
for src in bin/vethbridge bin/ipvlan; do
	[ -f "$src" ] || continue
	name=$(basename "$src")
	target=$dest/$name
	if [ -f "$target" ] && cmp -s "$src" "$target"; then
		echo "==> $target is already this version"
		continue
	fi
	if [ -f "$target" ] && ! grep -q "netsteer $name" "$target"; then
		cp -p "$target" "$target.netsteer-backup"
		echo "==> $target is not netsteer's; kept it as $target.netsteer-backup"
	fi
	tmp=$(mktemp "$dest/.$name.XXXXXX")
	cp "$src" "$tmp"; chmod 0755 "$tmp"; sync "$tmp"
	mv -f "$tmp" "$target"
	echo "==> installed $target"
done
