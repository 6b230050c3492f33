#!/usr/bin/env bash
# dist.sh: build the release tarballs (see mk/dist.mk). Called by `make dist`
# with GO, VERSION, COMMIT, DIST, DIST_ARCHES, SHIPPED, DIST_UPSTREAM and
# BUILDINFO_LDFLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${GO:?}" "${VERSION:?}" "${DIST:?}" "${DIST_ARCHES:?}" "${SHIPPED:?}" "${DIST_UPSTREAM:?}" "${BUILDINFO_LDFLAGS:?}"
export LC_ALL=C TZ=UTC CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOAMD64=v1 GOARM64=v8.0
# Every time stamp in the tarballs is the last commit's, so a rebuild of the
# same commit gives the same bytes.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
name=netsteer-$VERSION
mkdir -p "$DIST"
stage=$(mktemp -d "${TMPDIR:-/tmp}/nst-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT

for arch in $DIST_ARCHES; do
	dir=$stage/$name-linux-$arch
	echo "==> dist: building $name for linux/$arch"
	mkdir -p "$dir/bin" "$dir/upstream" "$dir/conf"
	# shellcheck disable=SC2086 # SHIPPED is a list of packages
	GOOS=linux GOARCH=$arch "$GO" build -trimpath -ldflags="-s -w -buildid= $BUILDINFO_LDFLAGS" \
		-o "$dir/bin/" $(printf './%s ' $SHIPPED)
	# The upstream plugins the DaemonSet image installs beside ours, at the
	# version go.mod pins.
	# shellcheck disable=SC2086 # DIST_UPSTREAM is a list of packages
	GOOS=linux GOARCH=$arch "$GO" build -trimpath -ldflags="-s -w -buildid=" -o "$dir/upstream/" $DIST_UPSTREAM
	(cd "$dir" && "$GO" version -m bin/* upstream/*) >"$dir/MODULES.txt"
	cp README.md "$dir/"
	cp conf/*.conflist "$dir/conf/"
	find "$dir" -type d -exec chmod 0755 {} +
	find "$dir" -type f -exec chmod 0644 {} +
	chmod 0755 "$dir"/bin/* "$dir"/upstream/*
	tarball=$DIST/$name-linux-$arch.tar.gz
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=gnu \
		-C "$stage" -cf - "$name-linux-$arch" | gzip -9n >"$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	cp "$dir/MODULES.txt" "$DIST/$name-linux-$arch.modules.txt"
	echo "==> dist: $tarball"
done
(cd "$DIST" && sha256sum -- "$name"-linux-*.tar.gz "$name"-linux-*.modules.txt >"$name-SHA256SUMS")
echo "==> dist: $DIST/$name-SHA256SUMS"
