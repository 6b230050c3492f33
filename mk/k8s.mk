# Kubernetes end-to-end test (integration/k8s, build tag k8s): a real node —
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy, containerd — inside private namespaces, netsteer installed by
# its DaemonSet (conf/kubernetes), checked through the API server and the
# node's kernel.
#
#   make test-k8s                                   # the whole matrix
#   make test-k8s K8S_MATRIX=containerd2:iptables:ACCEPT K8S_RUN='TestNode/install'
#   make test-k8s K8S_MATRIX=containerd2:nftables:ACCEPT K8S_RUN='^$'  # only the two-node test
#   make k8s-build                                  # only build/cache the binaries
#
# The first run builds Kubernetes, etcd and containerd 2.x from the Go module
# proxy (10+ minutes on two vCPUs) into $(K8S_CACHE); later runs reuse them.
# Needs root. Installs containerd (1.6, Debian), nftables, curl when missing.
# Under CI=true a missing prerequisite fails instead of skipping.

K8S_VERSION         ?= v1.34.2
ETCD_VERSION        ?= v3.6.4
CONTAINERD2_VERSION ?= v2.4.2
K8S_CACHE           ?= $(or $(NETSTEER_CACHE),/var/cache/netsteer)
K8S_DIR             := $(BIN)/k8s
K8S_RUN             ?= ^TestNode$$
K8S_TIMEOUT         ?= 15m
# runtime:kube-proxy mode:FORWARD policy[:full]. containerd2 runs the shipped
# template (cniVersion 1.1.0), containerd1.6 (Debian's) the same at 1.0.0.
# Only the "full" entry runs the checks that depend on none of the three
# (DaemonSet rolling update, NetworkReady from STATUS); "template" installs
# by hand and lets containerd render conf_template instead of the DaemonSet.
K8S_MATRIX          ?= containerd2:iptables:ACCEPT:full containerd2:nftables:ACCEPT \
                       containerd2:iptables:DROP containerd2:nftables:DROP \
                       containerd1.6:iptables:ACCEPT containerd2:iptables:ACCEPT:template
# The two-node test (TestTwoNodes: a second node on the first one's L2
# segment, netsteer-agent's routes between them) runs in this one entry of
# K8S_MATRIX only: what it checks (routes between nodes, cross-node pod and
# Service traffic) does not depend on the runtime, and one more node costs
# about a minute per entry. containerd 2 with kube-proxy nftables: the
# shipped template's runtime, and kube-proxy's newer mode. Empty leaves it out.
K8S_MULTI           ?= containerd2:nftables:ACCEPT
K8S_RUN_MULTI       ?= ^TestTwoNodes$$
K8S_APT             := nsenter:util-linux unshare:util-linux curl:curl nft:nftables \
                       iptables:iptables ip:iproute2 runc:runc containerd:containerd

.PHONY: test-k8s k8s-deps k8s-build k8s-images

test-k8s: build k8s-deps k8s-build k8s-images ## a real Kubernetes node in private namespaces drives netsteer installed by its DaemonSet (root)
	@failed=""; for combo in $(K8S_MATRIX); do \
		IFS=: read -r rt mode fwd full <<<"$$combo"; \
		echo "==> k8s node: runtime $$rt, kube-proxy $$mode, FORWARD $$fwd"; \
		start=$$(date +%s); run='$(K8S_RUN)'; \
		if [ "$$combo" = "$(K8S_MULTI)" ] && [ -n '$(K8S_RUN_MULTI)' ]; then \
			run="$$run|$(K8S_RUN_MULTI)"; echo "==> with the two-node test"; fi; \
		( cd integration/k8s && CI=$${CI:-} \
			NETSTEER_K8S_BIN=$(K8S_CACHE)/k8s/$(K8S_VERSION) \
			NETSTEER_K8S_CONTAINERD=$(K8S_CACHE)/containerd/$(CONTAINERD2_VERSION) \
			NETSTEER_K8S_IMAGES=$(K8S_DIR) NETSTEER_K8S_REPO=$(CURDIR) \
			NETSTEER_K8S_RUNTIME=$$rt NETSTEER_K8S_PROXY_MODE=$$mode NETSTEER_K8S_FORWARD=$$fwd \
			NETSTEER_K8S_FULL=$$([ "$$full" = full ] && echo true || echo false) \
			NETSTEER_K8S_INSTALL=$$([ "$$full" = template ] && echo template || echo daemonset) \
			NETSTEER_K8S_CNI_BIN=$(BIN) \
			$(K8S_DIR)/k8s.test -test.v -test.count=1 -test.timeout $(K8S_TIMEOUT) -test.run "$$run" ) \
			|| failed="$$failed $$combo"; \
		echo "==> k8s node $$combo done in $$(( $$(date +%s) - start )) s"; \
	done; \
	if [ -n "$$failed" ]; then echo "==> test-k8s FAILED for:$$failed" >&2; exit 1; fi
	@echo "==> Kubernetes e2e passed"

k8s-deps: ## install what the Kubernetes node needs (containerd, runc, nftables, curl)
	@echo "==> checking Kubernetes e2e prerequisites"
	@scripts/require-root.sh k8s
	@scripts/deps.sh $(subst :,=,$(K8S_APT))

# Kubernetes, etcd and containerd 2.x from the Go module proxy, cached per
# version (see scripts/k8s-build.sh).
k8s-build: ## build Kubernetes, etcd and containerd 2.x from the Go module proxy, cached per version
	@K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) CONTAINERD_VERSION=$(CONTAINERD2_VERSION) \
		NETSTEER_CACHE=$(K8S_CACHE) GO=$(GO) scripts/k8s-build.sh

# Offline images: the pause image (the sandbox image), the echo workload, and the
# netsteer image from conf/kubernetes/Containerfile, made as operators make
# it: from the `make dist` release of this commit (host architecture only),
# its tarball checked against the SHA256SUMS. Twice: the second release is
# stamped VERSION-next, a different binary of the same source for the
# rolling update.
K8S_ARCH := $(shell $(GO) env GOARCH)
k8s-images: ## the offline images the node runs (pause, echo, netsteer from its Containerfile and make dist)
	@echo "==> building the Kubernetes test images into $(K8S_DIR)"
	@mkdir -p $(K8S_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags=-s -o $(K8S_DIR)/ ./integration/pause/cmd/nst-pause ./integration/k8s/cmd/nst-echo
	$(GO) run ./integration/pause/cmd/nst-pause-image -binary $(K8S_DIR)/nst-pause -name registry.k8s.io/pause:3.10 -o $(K8S_DIR)/pause.tar
	$(GO) run ./integration/pause/cmd/nst-pause-image -binary $(K8S_DIR)/nst-echo -path /nst-echo -name localhost/netsteer/echo:test -o $(K8S_DIR)/echo.tar
	rm -rf $(K8S_DIR)/dist
	$(MAKE) -s dist DIST=$(K8S_DIR)/dist DIST_ARCHES=$(K8S_ARCH) VERSION=$(VERSION)
	$(MAKE) -s dist DIST=$(K8S_DIR)/dist DIST_ARCHES=$(K8S_ARCH) VERSION=$(VERSION)-next
	$(GO) run ./integration/k8s/cmd/nst-k8s-image -containerfile conf/kubernetes/Containerfile -context $(K8S_DIR)/dist \
		-arch $(K8S_ARCH) -build-arg VERSION=$(VERSION) -name ghcr.io/netsteer/netsteer:v0.1.0 -o $(K8S_DIR)/netsteer.tar
	$(GO) run ./integration/k8s/cmd/nst-k8s-image -containerfile conf/kubernetes/Containerfile -context $(K8S_DIR)/dist \
		-arch $(K8S_ARCH) -build-arg VERSION=$(VERSION)-next -name ghcr.io/netsteer/netsteer:v0.1.0-next -o $(K8S_DIR)/netsteer-next.tar
	$(GO) test -c -tags k8s -o $(K8S_DIR)/k8s.test ./integration/k8s

# Kubernetes-level benchmark for BENCHMARKS.md (not part of make test): on the
# same node harness (containerd 2.x, kube-proxy iptables), 30 pods created at
# once until all Running, and their RunPodSandbox times, for vethbridge and
# upstream bridge.
.PHONY: bench-k8s
bench-k8s: build k8s-deps k8s-build k8s-images ## 30 pods at once on the node, ours vs upstream bridge: time to Running and the CNI share
	@res=$(K8S_DIR)/bench.txt; \
	{ echo "K8S_VERSION=$(K8S_VERSION)"; echo "CONTAINERD_VERSION=$(CONTAINERD2_VERSION)"; \
	  echo "LOAD_START=$$(cut -d' ' -f1-3 /proc/loadavg)"; } >$$res; \
	for plugin in vethbridge bridge; do \
		echo "==> k8s benchmark: $$plugin"; \
		( cd integration/k8s && NETSTEER_K8S_BENCH=$$plugin NETSTEER_K8S_CNI_BIN=$(BIN) \
			NETSTEER_K8S_BIN=$(K8S_CACHE)/k8s/$(K8S_VERSION) \
			NETSTEER_K8S_CONTAINERD=$(K8S_CACHE)/containerd/$(CONTAINERD2_VERSION) \
			NETSTEER_K8S_IMAGES=$(K8S_DIR) NETSTEER_K8S_REPO=$(CURDIR) \
			$(K8S_DIR)/k8s.test -test.count=1 -test.timeout 30m -test.run '^TestBenchPods$$' ) >$$res.$$plugin 2>&1 \
			|| { tail -50 $$res.$$plugin; exit 1; }; \
		grep '^BENCH ' $$res.$$plugin | tee -a $$res; \
	done; \
	scripts/k8s-bench-md.sh $$res BENCHMARKS.md

# Pod-to-pod data path across nodes for BENCHMARKS.md (not part of make
# test): TestTwoNodes' harness (two nodes on one L2 segment, netsteer's
# DaemonSet with its agent on both, containerd 2.x, kube-proxy iptables),
# TCP_RR (bench/cmd/tcprr) and one iperf3 stream between two pods on one
# node and between pods on the two nodes, 3 interleaved rounds.
.PHONY: bench-k8s-net
bench-k8s-net: build k8s-deps k8s-build k8s-images ## pod-to-pod TCP_RR and throughput, across two nodes vs on one node
	@scripts/deps.sh iperf3=iperf3
	$(GO) build -o $(K8S_DIR)/tcprr ./bench/cmd/tcprr
	@res=$(K8S_DIR)/bench-net.txt; \
	{ echo "K8S_VERSION=$(K8S_VERSION)"; echo "CONTAINERD_VERSION=$(CONTAINERD2_VERSION)"; \
	  echo "LOAD_START=$$(cut -d' ' -f1-3 /proc/loadavg)"; } >$$res; \
	echo "==> k8s benchmark: pod to pod, same node and across nodes"; \
	( cd integration/k8s && NETSTEER_K8S_BENCH=crossnode NETSTEER_K8S_TCPRR=$(K8S_DIR)/tcprr \
		NETSTEER_K8S_BIN=$(K8S_CACHE)/k8s/$(K8S_VERSION) \
		NETSTEER_K8S_CONTAINERD=$(K8S_CACHE)/containerd/$(CONTAINERD2_VERSION) \
		NETSTEER_K8S_IMAGES=$(K8S_DIR) NETSTEER_K8S_REPO=$(CURDIR) \
		$(K8S_DIR)/k8s.test -test.count=1 -test.timeout 30m -test.run '^TestBenchCrossNode$$' ) >$$res.net 2>&1 \
		|| { tail -50 $$res.net; exit 1; }; \
	grep '^BENCHNET ' $$res.net | tee -a $$res; \
	scripts/k8s-bench-md.sh $$res BENCHMARKS.md
