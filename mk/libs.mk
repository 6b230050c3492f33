# pkg/sysctl and pkg/rps: unit tests, their root tests, and fuzzing.
#
#   make test-libs                 # unit tests; as root also the netns tests (real /proc/sys, sysfs)
#   make fuzz-libs                 # each fuzz target for FUZZTIME (default 30s), seeds in testdata/fuzz
#   make fuzz-libs FUZZTIME=10m
#
# The root tests create network namespaces named nst-sysctl-* and nst-rps-*
# and delete them when they end. They need iproute2, installed with apt when
# missing (scripts/deps.sh says so).

FUZZTIME ?= 30s
LIBS_PKGS := ./pkg/sysctl ./pkg/rps

.PHONY: test-libs fuzz-libs
test-libs: ## pkg/sysctl and pkg/rps tests; as root also their netns tests
	@echo "==> libs: checking tools (iproute2)"
	@scripts/deps.sh ip=iproute2
	@echo "==> libs: go vet and tests of pkg/sysctl and pkg/rps ($$( [ $$(id -u) -eq 0 ] && echo 'with root tests' || echo 'root tests skip: not root'))"
	$(GO) vet $(LIBS_PKGS)
	$(GO) test -count=1 $(LIBS_PKGS)

fuzz-libs: ## fuzz each pkg/sysctl and pkg/rps target for FUZZTIME
	@echo "==> libs: fuzzing sysctl.ParseKey for $(FUZZTIME)"
	$(GO) test -run '^$$' -fuzz '^FuzzParseKey$$' -fuzztime $(FUZZTIME) ./pkg/sysctl
	@echo "==> libs: fuzzing rps.Parse and rps.ParseKernel for $(FUZZTIME)"
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./pkg/rps
