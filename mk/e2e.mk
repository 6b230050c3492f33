# containerd CRI end-to-end test (integration/containerd, build tag e2e).
#
#   make test-e2e                              # vethbridge through containerd's CRI plugin
#   make test-e2e E2E_PLUGIN=bridge            # same tests against the pinned upstream bridge
#   make test-e2e E2E_RUN=TestHostPort         # one test
#
# Needs root. Installs containerd and runc (apt) when missing and says so. Under
# CI=true a missing prerequisite fails the run instead of skipping the tests.
# The test runs under scripts/private-run.sh: the plugins containerd runs keep
# their node-wide records in a private /run/netsteer, not the machine's.

E2E_DIR     := $(BIN)/e2e
E2E_PLUGIN  ?= vethbridge
E2E_RUN     ?= .
E2E_TIMEOUT ?= 15m
E2E_APT     := containerd:containerd containerd-shim-runc-v2:containerd ctr:containerd runc:runc \
               iptables:iptables ip:iproute2 nsenter:util-linux

.PHONY: test-e2e e2e-deps e2e-pause-image

test-e2e: build e2e-deps e2e-pause-image ## containerd CRI end-to-end tests (root; E2E_PLUGIN=bridge for upstream)
	@echo "==> containerd e2e: $(E2E_PLUGIN) via CRI (go test -tags e2e, timeout $(E2E_TIMEOUT))"
	cd integration/containerd && NETSTEER_E2E_BIN=$(BIN) NETSTEER_E2E_PLUGIN=$(E2E_PLUGIN) \
		NETSTEER_E2E_PAUSE_IMAGE=$(E2E_DIR)/nst-pause.tar \
		$(CURDIR)/scripts/private-run.sh $(GO) test -tags e2e -count=1 -p 1 -v -timeout $(E2E_TIMEOUT) -run '$(E2E_RUN)' .
	@echo "==> containerd e2e passed"

# e2e-deps refuses to run without root (the test starts containerd, creates
# network namespaces and iptables rules on the host) and installs the
# system packages the test calls that are missing.
e2e-deps: ## install containerd and runc for test-e2e when missing
	@echo "==> checking e2e prerequisites"
	@if [ "$$(id -u)" != 0 ]; then \
		echo "test-e2e: needs root: it runs containerd and changes the host's links and iptables" >&2; exit 1; fi
	@missing=""; for pair in $(E2E_APT); do \
		command -v "$${pair%%:*}" >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		pkgs=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
		echo "==> installing missing packages: $$pkgs(apt-get install --no-install-recommends)"; \
		apt-get install -y --no-install-recommends $$pkgs || \
			{ apt-get update && apt-get install -y --no-install-recommends $$pkgs; } || \
			{ echo "test-e2e: could not install $$pkgs" >&2; exit 1; }; \
	fi
	@for pair in $(E2E_APT); do command -v "$${pair%%:*}" >/dev/null || \
		{ echo "test-e2e: $${pair%%:*} still missing after installing $${pair#*:}" >&2; exit 1; }; done

# The offline sandbox image: a static blocking binary packed as an OCI
# layout tar that the test imports with `ctr images import`.
e2e-pause-image: ## build the pause image test-e2e imports
	@echo "==> building the sandbox image $(E2E_DIR)/nst-pause.tar"
	@mkdir -p $(E2E_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags=-s -o $(E2E_DIR)/nst-pause ./integration/pause/cmd/nst-pause
	$(GO) run ./integration/pause/cmd/nst-pause-image -binary $(E2E_DIR)/nst-pause \
		-name localhost/netsteer/pause:e2e -o $(E2E_DIR)/nst-pause.tar
