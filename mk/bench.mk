# Side-by-side benchmark of bin/vethbridge against the pinned upstream bridge
# plugin (bench/cmd/nstbench). Needs root; everything runs in private network
# namespaces named nst-bench-*, removed at the end (also on Ctrl-C).
#
#   make bench         # full run (~5-8 min on 2 vCPUs): writes BENCHMARKS.md and bench/latency.png
#   make bench-quick   # CI sizes (< 2 min): writes into a fresh /tmp/nst-bench-quick.* dir
#   make bench BENCH_FLAGS='-only datapath'   # a subset: startup,datapath,parallel,preload,scale,nftables
#
# Fails only on errors (plugin failure, duplicate IP, leaked namespace), never
# on timings. Installs iproute2, iptables and iperf3 with apt when missing and
# says so (scripts/deps.sh). Host-wide settings stay as they are: only with
# BENCH_FLAGS=-global-rfs do the RPS+RFS runs raise net.core.rps_sock_flow_entries
# (restored afterwards), which RFS needs to steer anything.

BENCH_FLAGS    ?=
BENCH_MD       ?= $(CURDIR)/BENCHMARKS.md
BENCH_PNG      ?= $(CURDIR)/bench/latency.png
BENCH_COMMON   := -ours $(BIN)/vethbridge -ours-type vethbridge -upstream $(BIN)/bridge -upstream-type bridge \
                  -cni-path $(BIN) -tcprr $(BIN)/tcprr -repo $(CURDIR)

.PHONY: bench bench-quick bench-tools
bench-tools: ## install iproute2, iptables and iperf3 for the benchmarks when missing
	@echo "==> bench: checking tools (iproute2, iptables, iperf3) and building bin/nstbench, bin/tcprr"
	@scripts/deps.sh ip=iproute2 iptables=iptables iptables-save=iptables iptables-restore=iptables nft=nftables iperf3=iperf3
	$(GO) build -o $(BIN)/nstbench ./bench/cmd/nstbench
	$(GO) build -o $(BIN)/tcprr ./bench/cmd/tcprr

bench: build bench-tools ## full side-by-side benchmark against upstream bridge: BENCHMARKS.md (root, ~5-8 min)
	@echo "==> bench: full run, writing $(BENCH_MD) and $(BENCH_PNG)"
	scripts/private-run.sh $(BIN)/nstbench $(BENCH_COMMON) -md $(BENCH_MD) -png $(BENCH_PNG) -command "make bench" $(BENCH_FLAGS)

# bench-quick prints its tables; its report and plot go to a temp dir that
# is removed afterwards (BENCH_QUICK_KEEP=1 keeps it and says where).
bench-quick: build bench-tools ## the benchmark at CI sizes into a fresh /tmp dir (root, < 2 min)
	@out=$$(mktemp -d /tmp/nst-bench-quick.XXXXXX) && \
	echo "==> bench-quick: CI sizes, report in $$out" && \
	scripts/private-run.sh $(BIN)/nstbench $(BENCH_COMMON) -quick -md $$out/BENCHMARKS.md -png $$out/latency.png \
		-command "make bench-quick" $(BENCH_FLAGS); rc=$$?; \
	if [ -n "$(BENCH_QUICK_KEEP)" ]; then echo "==> kept $$out"; else rm -rf "$$out"; fi; exit $$rc
