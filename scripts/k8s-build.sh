#!/usr/bin/env bash
# k8s-build.sh: build the pinned Kubernetes node components, etcd and
# containerd 2.x from the Go module proxy and cache the binaries per version.
#
#   scripts/k8s-build.sh            build what is missing, print the cache dirs
#
# Environment:
#   K8S_VERSION         Kubernetes release (default v1.34.2)
#   ETCD_VERSION        etcd release Kubernetes is tested with (default v3.6.4)
#   CONTAINERD_VERSION  containerd 2.x release (default v2.4.2)
#   NETSTEER_CACHE      cache root (default /var/cache/netsteer)
#   GO                  go binary
#   K8S_BUILD_ONLY      "k8s" or "containerd" to build one of the two
#
# Binaries land in $NETSTEER_CACHE/k8s/<K8S_VERSION>/ and
# $NETSTEER_CACHE/containerd/<CONTAINERD_VERSION>/. A directory is complete
# only when its .done marker exists, so an interrupted build is redone, and a
# finished one is never rebuilt. Each build happens in a throwaway Go module
# outside the repository; nothing but the module proxy is contacted.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.4}
CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
CACHE=${NETSTEER_CACHE:-/var/cache/netsteer}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

k8s_dir=$CACHE/k8s/$K8S_VERSION
ctrd_dir=$CACHE/containerd/$CONTAINERD_VERSION
K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

say() { printf '==> [%s] %s\n' "$(date +%T)" "$*"; }

# ticker prints a line every 30 s while a long step runs, so a cold build
# (10+ minutes on two shared vCPUs) does not look hung.
ticker() {
	local what=$1 start=$SECONDS
	while sleep 30; do say "$what: still building ($((SECONDS - start)) s)"; done
}
run_long() {
	local what=$1; shift
	ticker "$what" & local tick=$!
	local rc=0
	"$@" || rc=$?
	kill "$tick" 2>/dev/null; wait "$tick" 2>/dev/null || true
	return $rc
}

work=$(mktemp -d /tmp/nst-k8s-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

build_containerd() {
	if [ -f "$ctrd_dir/.done" ]; then say "containerd $CONTAINERD_VERSION cached in $ctrd_dir"; return; fi
	say "building containerd $CONTAINERD_VERSION (containerd, containerd-shim-runc-v2, ctr) from the module proxy (~4 min cold)"
	rm -rf "$ctrd_dir.tmp"; mkdir -p "$ctrd_dir.tmp"
	local pkg=github.com/containerd/containerd/v2
	run_long containerd env GOBIN="$ctrd_dir.tmp" "$GO" install -trimpath \
		-tags "no_btrfs no_devmapper no_zfs" \
		-ldflags "-s -X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Package=$pkg" \
		"$pkg/cmd/containerd@$CONTAINERD_VERSION" \
		"$pkg/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
		"$pkg/cmd/ctr@$CONTAINERD_VERSION"
	touch "$ctrd_dir.tmp/.done"
	rm -rf "$ctrd_dir"; mv "$ctrd_dir.tmp" "$ctrd_dir"
	say "containerd $CONTAINERD_VERSION ready in $ctrd_dir"
}

build_k8s() {
	if [ -f "$k8s_dir/.done" ]; then say "Kubernetes $K8S_VERSION + etcd $ETCD_VERSION cached in $k8s_dir"; return; fi
	say "building Kubernetes $K8S_VERSION (${K8S_BINS[*]}) and etcd $ETCD_VERSION from the module proxy (~10 min cold)"
	local mod=$work/k8s
	mkdir -p "$mod"
	# Kubernetes' own go.mod points its staging modules at ./staging/...; a
	# module that requires k8s.io/kubernetes must pin each of them to the
	# matching v0.Y.Z release instead.
	local gomod
	gomod=$("$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	[ -f "$gomod" ] || { echo "k8s-build: no go.mod for k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
	local staging_version=v0.${K8S_VERSION#v1.}
	{
		echo "module nst-k8s-build"
		echo
		echo "go 1.26"
		echo
		echo "require k8s.io/kubernetes $K8S_VERSION"
		echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
		echo
		sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*$|replace \1 => \1 '"$staging_version"'|p' "$gomod"
	} >"$mod/go.mod"
	local n
	n=$(grep -c '^replace ' "$mod/go.mod")
	[ "$n" -gt 20 ] || { echo "k8s-build: found only $n staging modules in $gomod" >&2; exit 1; }
	say "Kubernetes $K8S_VERSION: $n staging modules pinned to $staging_version"
	{
		echo "//go:build tools"
		echo
		echo "package tools"
		echo
		echo "import ("
		for b in "${K8S_BINS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done
		echo "	_ \"go.etcd.io/etcd/server/v3\""
		echo ")"
	} >"$mod/tools.go"
	say "resolving modules (go mod tidy; downloads ~100 MB on a cold module cache)"
	(cd "$mod" && run_long "go mod tidy" "$GO" mod tidy)
	# etcd must be the version Kubernetes asks for, or the pin above is a lie.
	local etcd_resolved
	etcd_resolved=$(cd "$mod" && "$GO" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
	[ "$etcd_resolved" = "$ETCD_VERSION" ] || say "note: etcd resolved to $etcd_resolved (asked $ETCD_VERSION)"

	local major=${K8S_VERSION#v}; major=${major%%.*}
	local minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
	local ld="-s"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
	done
	rm -rf "$k8s_dir.tmp"; mkdir -p "$k8s_dir.tmp"
	local pkgs=()
	for b in "${K8S_BINS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
	say "compiling ${K8S_BINS[*]} (kube-apiserver alone takes ~4.5 min cold)"
	(cd "$mod" && run_long kubernetes "$GO" build -trimpath -ldflags "$ld" -o "$k8s_dir.tmp/" "${pkgs[@]}")
	say "compiling etcd $etcd_resolved"
	(cd "$mod" && run_long etcd "$GO" build -trimpath -ldflags -s -o "$k8s_dir.tmp/etcd" go.etcd.io/etcd/server/v3)
	touch "$k8s_dir.tmp/.done"
	rm -rf "$k8s_dir"; mv "$k8s_dir.tmp" "$k8s_dir"
	say "Kubernetes $K8S_VERSION ready in $k8s_dir"
}

mkdir -p "$CACHE/k8s" "$CACHE/containerd"
# Two builds of the same cache (two checkouts running make at once) must not
# write the same directories: the second waits and then finds the result.
exec 9>"$CACHE/.k8s-build.lock"
if ! flock -n 9; then
	say "another build of $CACHE is running; waiting for it"
	flock 9
fi
case ${K8S_BUILD_ONLY:-} in
"") build_containerd; build_k8s ;;
containerd) build_containerd ;;
k8s) build_k8s ;;
*) echo "k8s-build: K8S_BUILD_ONLY=$K8S_BUILD_ONLY: want k8s or containerd" >&2; exit 2 ;;
esac
[ "${K8S_BUILD_ONLY:-}" = containerd ] || "$k8s_dir/kubelet" --version
[ "${K8S_BUILD_ONLY:-}" = k8s ] || "$ctrd_dir/containerd" --version
