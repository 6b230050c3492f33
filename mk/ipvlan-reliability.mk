# Reliability tests of the ipvlan plugin, in the VM (integration/ipvlan, build
# tag vm): kill -9 during ADD and DEL, faults at DEL and CHECK, 100 pods ADDed
# and DELed in parallel on one master, each ending with the leak checker.
# `make test-ipvlan-vm` (part of `make test`) runs them with the rest of the
# package; this target runs only them.
#
#   make test-ipvlan-reliability     # ~75 s of VM time with the 1-vCPU guest
#
# Like test-ipvlan-vm it installs QEMU, iproute2 and iptables with apt when
# missing (vm-host-tools in mk/vm.mk says so), and the first run fetches the
# guest kernel with apt. The figures RELIABILITY.md quotes are the tests'
# `-v` log lines.

IPVLAN_RELIABILITY_TESTS := ^(TestKilledAtAnyPointThenDel|TestFaults|TestHundredPodsInParallel)$$

.PHONY: test-ipvlan-reliability

test-ipvlan-reliability: build vmexec vm-host-tools ## ipvlan kill -9, fault and 100-pod tests only, in the VM
	@echo "==> ipvlan reliability: kill -9 during ADD/DEL, faults, 100 pods in parallel, in the VM (timeout $(IPVLAN_VM_TIMEOUT))"
	NETSTEER_VM_TIMEOUT=$(IPVLAN_VM_TIMEOUT) NETSTEER_VM_FILES=$(BIN) $(GO) test -count=1 -tags vm -timeout $(IPVLAN_VM_TIMEOUT) \
		-exec $(BIN)/vmexec ./integration/ipvlan/ -run '$(IPVLAN_RELIABILITY_TESTS)' -v
	@echo "==> ipvlan reliability tests passed"
