# netsteer — build, demo and test entry points. `make help` lists them.
SHELL := /bin/bash
BIN   := $(CURDIR)/bin
GO    ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export GOFLAGS ?= -buildvcs=false
export CGO_ENABLED ?= 0

UPSTREAM := github.com/containernetworking/plugins/plugins
OURS     := $(patsubst %/main.go,%,$(wildcard plugins/*/main.go))
# SHIPPED is what an operator installs: the plugins and the commands beside them
# (netsteer-agent runs in the DaemonSet's image).
SHIPPED  := $(OURS) cmd/netsteer cmd/netsteer-install cmd/netsteer-agent

# Every binary reports the version and commit it was built from (pkg/buildinfo).
# GOFLAGS carries -buildvcs=false, so the build stamps them here; without git
# (a source tarball) they read "unknown".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILDINFO_LDFLAGS := -X github.com/netsteer/netsteer/pkg/buildinfo.version=$(VERSION) \
                     -X github.com/netsteer/netsteer/pkg/buildinfo.commit=$(COMMIT)

.PHONY: help build deps demo test test-unit test-integration fnlen install clean
help: ## list every target with what it does (this text)
	@awk -F':[^#]*## ' '/^[a-zA-Z][a-zA-Z0-9_-]*:[^=]*## / {printf "make %-24s %s\n", $$1, $$2}' Makefile mk/*.mk

# deps installs the system packages and Go toolchain pieces the targets need, saying what it does.
deps: ## install the system packages and Go pieces the targets need, saying what it does
	@scripts/deps.sh

build: ## bin/vethbridge bin/ipvlan and the pinned reference binaries the tests use
	@echo "==> building our plugins and the pinned reference binaries into bin/"
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags="-s $(BUILDINFO_LDFLAGS)" -o $(BIN)/ $(addprefix ./,$(SHIPPED)) ./integration/nst-peer
	$(GO) build -trimpath -ldflags=-s -o $(BIN)/ github.com/containernetworking/cni/cnitool \
		$(UPSTREAM)/ipam/host-local $(UPSTREAM)/main/loopback $(UPSTREAM)/main/bridge $(UPSTREAM)/meta/portmap
	@# upstream ipvlan shares our ipvlan's name, so it lives apart (benchmarks and comparisons only)
	@mkdir -p $(BIN)/upstream
	$(GO) build -trimpath -ldflags=-s -o $(BIN)/upstream/ $(UPSTREAM)/main/ipvlan

demo: deps build ## attach a namespace with conf/10-netsteer.conflist, show it working, clean up (root)
	@scripts/demo.sh

# test is the whole suite CI runs (.ci/run). Each part says what it does;
# the parts live in mk/*.mk.
test: deps build test-unit test-integration test-reliability test-ipvlan-vm test-vethbridge-vm test-e2e test-k8s test-dist fuzz-short bench-quick ## every test CI runs: unit, integration (root), VM, containerd, Kubernetes, fuzz, quick bench
	@echo "==> all tests passed"

test-unit: ## go vet, the lint checks and the unit tests (no root)
	@echo "==> go vet, lint (internal/lint) and unit tests (no root needed)"
	$(GO) vet ./...
	$(GO) test -count=1 ./...

test-integration: build ## vethbridge integration tests in private network namespaces (root)
	@echo "==> integration tests (root, private network namespaces)"
	scripts/require-root.sh integration
	@scripts/deps.sh iptables=iptables nft=nftables
	@echo "==> integration: ipMasqBackend iptables"
	NST_IPMASQ_BACKEND=iptables scripts/private-run.sh $(GO) test -count=1 -tags integration -p 1 -timeout 15m ./integration/vethbridge/...
	@echo "==> integration: ipMasqBackend nftables"
	NST_IPMASQ_BACKEND=nftables scripts/private-run.sh $(GO) test -count=1 -tags integration -p 1 -timeout 15m ./integration/vethbridge/...

fnlen: ## function lengths of the non-test Go code (median, count, longest; STYLE.md: median ~10, split past 40)
	@$(GO) run ./internal/fnlen

install: build ## copy our plugins into /opt/cni/bin and netsteer into /usr/local/bin (DESTDIR=... to change)
	@scripts/install.sh $(DESTDIR)/opt/cni/bin $(DESTDIR)/usr/local/bin

clean: ## remove bin/ and dist/
	rm -rf $(BIN) $(DIST)

-include mk/*.mk
