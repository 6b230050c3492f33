# Reliability: crash, fault, concurrency and hostile-input tests of vethbridge
# (integration/reliability, root), and fuzzing of the config and the parsers.
#
#   make test-reliability          # root; part of `make test`; ~2-3 min on 2 CPUs
#   make fuzz-short                # each fuzz target for 200000 inputs (FUZZ_SHORT), ~5-10 s each
#   make fuzz                      # each fuzz target for FUZZTIME (default 2m)
#   make fuzz FUZZTIME=10m
#
# The tests make network namespaces named nst-*, bridges nstbr*, and rules
# inside those namespaces only, and remove them when they end. They need
# iproute2, iptables and ping, installed with apt when missing (scripts/deps.sh
# says so). The figures RELIABILITY.md quotes are the tests' `-v` log lines.

# mk/libs.mk sets FUZZTIME ?= 30s for fuzz-libs; `fuzz` keeps its own 2m
# default unless FUZZTIME is given on the command line or in the environment.
RELIABILITY_FUZZTIME := $(if $(filter command line environment,$(origin FUZZTIME)),$(FUZZTIME),2m)
# fuzz-short counts inputs instead of seconds. With a duration, Go's fuzzing
# coordinator can fail a clean run on a loaded machine: a worker still busy at
# the deadline surfaces as a bare "context deadline exceeded" with no input
# written (golang/go#75804, fixed in Go 1.27). A count sets no deadline, so
# load only makes the run slower. `make fuzz` keeps a duration: it is a long
# run by hand, and that message there, with no input written, is not a finding.
FUZZ_SHORT ?= 200000x
RELIABILITY_TIMEOUT ?= 20m

# package:FuzzTarget pairs
FUZZ_TARGETS := ./plugins/vethbridge:FuzzLoad ./plugins/ipvlan:FuzzLoad ./pkg/rps:FuzzParse ./pkg/sysctl:FuzzParseKey \
	./pkg/netconf:FuzzLinkNameProblem ./pkg/netconf:FuzzPodSubnetProblem

.PHONY: test-reliability fuzz-short fuzz

test-reliability: build ## vethbridge crash, fault, concurrency, hostile-input and netns-handle tests (root)
	@echo "==> reliability: checking tools (iproute2, iptables, ping)"
	@scripts/deps.sh ip=iproute2 iptables=iptables ip6tables=iptables iptables-save=iptables nft=nftables ping=iputils-ping
	@scripts/require-root.sh reliability
	@echo "==> reliability: kill -9 during ADD/DEL, faults, reboot+GC, 100 pods in parallel, hostile input (timeout $(RELIABILITY_TIMEOUT))"
	scripts/private-run.sh $(GO) test -count=1 -tags integration -p 1 -v -timeout $(RELIABILITY_TIMEOUT) ./integration/reliability/
	@echo "==> reliability, ipMasqBackend nftables: kill -9 during a first ADD, concurrent first ADDs, faults"
	NST_IPMASQ_BACKEND=nftables scripts/private-run.sh $(GO) test -count=1 -tags integration -p 1 -v -timeout $(RELIABILITY_TIMEOUT) \
		-run 'TestAddKilledAtAnyPointThenDel|TestFirstAddsRaceOnAFreshNode|TestFaults' ./integration/reliability/

# fuzz-targets runs every target for $(1); a crash fails the target and
# leaves the input under the package's testdata/fuzz, to become a test.
define fuzz-targets
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "==> fuzzing $$fn in $$pkg for $(1)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(1) $$pkg || exit 1; \
	done
	@echo "==> fuzzing done: no crash"
endef

fuzz-short: ## each fuzz target for FUZZ_SHORT inputs (200000x)
	$(call fuzz-targets,$(FUZZ_SHORT))

fuzz: ## each fuzz target for FUZZTIME (default 2m)
	$(call fuzz-targets,$(RELIABILITY_FUZZTIME))
