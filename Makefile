# netsteer — build, demo and test entry points. `make help` lists them.
SHELL := /bin/bash
BIN   := $(CURDIR)/bin
GO    ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export GOFLAGS ?= -buildvcs=false
export CGO_ENABLED ?= 0

UPSTREAM := github.com/containernetworking/plugins/plugins
OURS     := $(patsubst %/main.go,%,$(wildcard plugins/*/main.go))

.PHONY: help build deps demo test test-unit test-integration install clean
help:
	@echo "make demo    - build, attach a namespace with conf/10-netsteer.conflist, show it working, clean up (root)"
	@echo "make test    - every test: unit, integration (root), VM, containerd (installs what it needs)"
	@echo "make build   - bin/vethbridge bin/ipvlan and the reference binaries tests use"
	@echo "make install - copy our plugins into /opt/cni/bin (DESTDIR=... to change)"

# deps installs the system packages and Go toolchain pieces the targets need, saying what it does.
deps:
	@scripts/deps.sh

build:
	@echo "==> building our plugins and the pinned reference binaries into bin/"
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags=-s -o $(BIN)/ $(addprefix ./,$(OURS)) ./cmd/nst-peer
	$(GO) build -trimpath -ldflags=-s -o $(BIN)/ github.com/containernetworking/cni/cnitool \
		$(UPSTREAM)/ipam/host-local $(UPSTREAM)/main/loopback $(UPSTREAM)/main/bridge $(UPSTREAM)/meta/portmap
	@# upstream ipvlan shares our ipvlan's name, so it lives apart (benchmarks and comparisons only)
	@mkdir -p $(BIN)/upstream
	$(GO) build -trimpath -ldflags=-s -o $(BIN)/upstream/ $(UPSTREAM)/main/ipvlan

demo: deps build
	@scripts/demo.sh

# test is the whole suite CI runs (.ci/run). Each part says what it does;
# the parts live in mk/*.mk.
test: deps build test-unit test-integration test-reliability test-ipvlan-vm test-netns-vm test-e2e test-k8s fuzz-short bench-quick
	@echo "==> all tests passed"

test-unit:
	@echo "==> unit tests (no root needed)"
	$(GO) test -count=1 ./...

test-integration: build
	@echo "==> integration tests (root, private network namespaces)"
	scripts/require-root.sh integration
	$(GO) test -count=1 -tags integration -p 1 -timeout 15m ./integration/netns/...

install: build
	@scripts/install.sh $(DESTDIR)/opt/cni/bin

clean:
	rm -rf $(BIN)

-include mk/*.mk
