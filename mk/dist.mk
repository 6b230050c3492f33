# Release artifacts (scripts/dist.sh does the work):
#
#   make dist            dist/netsteer-$(VERSION)-linux-{amd64,arm64}.tar.gz, a
#                        module list beside each (.modules.txt, `go version -m`),
#                        and netsteer-$(VERSION)-SHA256SUMS over all of them
#   make test-dist       builds the release twice into temp dirs and fails unless
#                        every file is byte-identical; also checks what the
#                        tarballs hold. The second build relinks and repacks but
#                        reuses compiled packages; DIST_REPRO_FRESH_CACHE=1 gives
#                        it an empty Go build cache so everything is recompiled
#
# Each tarball holds netsteer-$(VERSION)-linux-<arch>/{bin/,upstream/,conf/,
# README.md,MODULES.txt}: static binaries (CGO_ENABLED=0, -trimpath, no build
# ID, stripped) of the plugins and commands in SHIPPED in bin/, and in
# upstream/ the upstream plugins our configs chain with (host-local,
# loopback, portmap) at the version go.mod pins, which the DaemonSet image
# (conf/kubernetes/Containerfile) installs beside ours. Reproducible: file
# times are the last commit's time (SOURCE_DATE_EPOCH), owners 0:0, names
# sorted, gzip without name or time. VERSION and COMMIT come from git.
DIST        ?= $(CURDIR)/dist
DIST_ARCHES ?= amd64 arm64
DIST_UPSTREAM := $(UPSTREAM)/ipam/host-local $(UPSTREAM)/main/loopback $(UPSTREAM)/meta/portmap

.PHONY: dist test-dist
dist: ## release tarballs for linux/amd64 and linux/arm64 in dist/, with SHA256SUMS and module lists
	@GO="$(GO)" VERSION="$(VERSION)" COMMIT="$(COMMIT)" DIST="$(DIST)" DIST_ARCHES="$(DIST_ARCHES)" \
		SHIPPED="$(SHIPPED)" DIST_UPSTREAM="$(DIST_UPSTREAM)" BUILDINFO_LDFLAGS="$(BUILDINFO_LDFLAGS)" scripts/dist.sh

test-dist: ## build the release twice and require byte-identical tarballs
	@echo "==> dist: two builds of the release must be byte-identical"
	@GO="$(GO)" VERSION="$(VERSION)" COMMIT="$(COMMIT)" DIST_ARCHES="$(DIST_ARCHES)" DIST_REPRO_FRESH_CACHE="$(DIST_REPRO_FRESH_CACHE)" scripts/dist-repro.sh
