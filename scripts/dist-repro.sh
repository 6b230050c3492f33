#!/usr/bin/env bash
# dist-repro.sh: prove `make dist` reproducible. Two builds of the release
# of this commit, into two temp dirs, must give byte-identical files. The
# second build links every binary again and packs every tarball again; it
# reuses the first one's compiled packages from the Go build cache unless
# DIST_REPRO_FRESH_CACHE=1, which gives it an empty cache so the compiler
# runs again too (minutes on two CPUs rather than seconds). Then check what a tarball holds: the binaries at
# mode 0755, owner 0:0, every time stamp the commit's, and a binary that
# reports this VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${GO:?}" "${VERSION:?}" "${DIST_ARCHES:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nst-dist-repro.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Both builds get the version, commit and time stamp read once here, so a
# commit made while they run cannot tell them apart.
: "${COMMIT:?}"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
make -s dist DIST="$tmp/a" DIST_ARCHES="$DIST_ARCHES" VERSION="$VERSION" COMMIT="$COMMIT"
if [ "${DIST_REPRO_FRESH_CACHE:-0}" = 1 ]; then
	GOCACHE=$tmp/gocache make -s dist DIST="$tmp/b" DIST_ARCHES="$DIST_ARCHES" VERSION="$VERSION" COMMIT="$COMMIT"
else
	make -s dist DIST="$tmp/b" DIST_ARCHES="$DIST_ARCHES" VERSION="$VERSION" COMMIT="$COMMIT"
fi
files=$(cd "$tmp/a" && ls)
[ "$files" = "$(cd "$tmp/b" && ls)" ] || { echo "FAIL: the two builds made different files"; exit 1; }
for f in $files; do
	cmp "$tmp/a/$f" "$tmp/b/$f" || { echo "FAIL: $f differs between two builds of one commit"; exit 1; }
done
(cd "$tmp/a" && sha256sum --quiet -c netsteer-"$VERSION"-SHA256SUMS)

name=netsteer-$VERSION
epoch=$SOURCE_DATE_EPOCH
stamp=$(TZ=UTC date -d "@$epoch" '+%Y-%m-%d %H:%M')
for arch in $DIST_ARCHES; do
	listing=$(TZ=UTC tar -tvzf "$tmp/a/$name-linux-$arch.tar.gz" --numeric-owner)
	for bin in bin/vethbridge bin/ipvlan bin/netsteer bin/netsteer-install bin/netsteer-agent \
		upstream/host-local upstream/loopback upstream/portmap; do
		grep -q "^-rwxr-xr-x 0/0 .* $stamp $name-linux-$arch/$bin\$" <<<"$listing" ||
			{ echo "FAIL: $arch tarball lacks $bin at 0755 0/0 $stamp:"; echo "$listing"; exit 1; }
	done
	if grep -v " $stamp $name-linux-$arch" <<<"$listing"; then
		echo "FAIL: entries above are not stamped $stamp"; exit 1
	fi
	grep -q "build	CGO_ENABLED=0" "$tmp/a/$name-linux-$arch.modules.txt" ||
		{ echo "FAIL: $arch module list does not show a static (CGO_ENABLED=0) build"; exit 1; }
	grep -q "build	GOARCH=$arch" "$tmp/a/$name-linux-$arch.modules.txt" ||
		{ echo "FAIL: $arch module list is not for GOARCH=$arch"; exit 1; }
done
if [[ " $DIST_ARCHES " == *" $("$GO" env GOARCH) "* ]]; then
	arch=$("$GO" env GOARCH)
	tar -xzf "$tmp/a/$name-linux-$arch.tar.gz" -C "$tmp"
	out=$("$tmp/$name-linux-$arch/bin/vethbridge" --version)
	[[ $out == "netsteer vethbridge version $VERSION, commit "* ]] ||
		{ echo "FAIL: the released vethbridge says: $out"; exit 1; }
fi
echo "==> dist: $(wc -w <<<"$files") files byte-identical across two builds ($DIST_ARCHES)"
