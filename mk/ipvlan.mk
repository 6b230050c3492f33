# ipvlan plugin: unit tests and the VM integration tests (integration/ipvlan,
# build tag vm). These machines' kernels lack ipvlan and dummy, so the
# integration tests run inside the throwaway QEMU VM of integration/vmexec
# (natively, as root, when the host kernel has ipvlan).
#
#   make test-ipvlan        # unit tests against fakes, no root
#   make test-ipvlan-vm     # real bin/ipvlan + bin/host-local via libcni, in the VM
#
# test-ipvlan-vm installs QEMU, iproute2 and iptables with apt when missing
# (vm-host-tools in mk/vm.mk says so); the first run fetches the guest kernel
# with apt. The tests create nst-* network namespaces inside the guest.

# A bound against a hung guest, not a measure: the suite takes ~3 min on an idle
# machine and far longer on a busy one (the guest CPU is emulated).
IPVLAN_VM_TIMEOUT ?= 20m

.PHONY: test-ipvlan test-ipvlan-vm

test-ipvlan: ## ipvlan unit tests against fakes (no root)
	@echo "==> ipvlan: go vet and unit tests (fakes, no root)"
	$(GO) vet ./plugins/ipvlan
	$(GO) test -count=1 ./plugins/ipvlan

test-ipvlan-vm: build vmexec vm-host-tools ## ipvlan integration tests with real binaries through libcni, in the VM
	@echo "==> ipvlan: VM integration tests (bin/ipvlan and bin/host-local through libcni, timeout $(IPVLAN_VM_TIMEOUT))"
	NETSTEER_VM_TIMEOUT=$(IPVLAN_VM_TIMEOUT) NETSTEER_VM_FILES=$(BIN):$(CURDIR)/conf $(GO) test -count=1 -tags vm -timeout $(IPVLAN_VM_TIMEOUT) \
		-exec $(BIN)/vmexec ./integration/ipvlan/ -v
	@echo "==> ipvlan: VM integration tests passed"
