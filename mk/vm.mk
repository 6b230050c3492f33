# VM test harness: runs test binaries in a throwaway QEMU guest when the host
# kernel lacks ipvlan (see integration/vm and FACTS.md).
#
#   make vmexec          build $(BIN)/vmexec, static (it is also the guest's /init)
#   make test-vm-smoke   prove the harness: ipvlan + iptables tests in a VM
#   make test-vm-unit    unit tests of the harness's pure parts (no root)
#
# Variables: NETSTEER_VM (auto|always|never; test-vm-smoke defaults to always),
# NETSTEER_VM_FILES, NETSTEER_VM_TIMEOUT, NETSTEER_VM_MODULES, NETSTEER_CACHE.

.PHONY: vmexec test-vm-smoke test-vm-unit vm-host-tools

# vm_need installs Debian package $(2) when command $(1) is missing: CI
# machines start fresh, and apt's lists may be empty until an update.
define vm_need
	@command -v $(1) >/dev/null 2>&1 || { \
		echo "==> installing $(2) ($(1) is missing)"; \
		apt-get install -y --no-install-recommends $(2) || \
		{ apt-get update && apt-get install -y --no-install-recommends $(2); }; }
endef

vmexec: ## build bin/vmexec, the static VM runner and guest /init
	@echo "==> building $(BIN)/vmexec (CGO_ENABLED=0, static)"
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -o $(BIN)/vmexec ./integration/vmexec

# The guest gets the host's ip and iptables, so the host must have them.
vm-host-tools: ## install QEMU, iproute2 and iptables for the VM tests when missing
	@echo "==> checking host tools: qemu-system-x86_64, ip, iptables"
	$(call vm_need,qemu-system-x86_64,qemu-system-x86)
	$(call vm_need,ip,iproute2)
	$(call vm_need,iptables,iptables)

test-vm-smoke: vmexec vm-host-tools ## prove the VM harness: ipvlan + iptables tests in a VM
	@echo "==> running ./integration/vmsmoke in a VM (first run fetches the kernel with apt)"
	NETSTEER_VM=$${NETSTEER_VM:-always} $(GO) test -count=1 -tags vm \
		-exec $(BIN)/vmexec ./integration/vmsmoke/ -v
	@echo "==> VM smoke test passed"

test-vm-unit: ## unit tests of the VM harness itself
	@echo "==> unit tests of the VM harness"
	$(GO) test ./integration/vm/ ./integration/vmexec/

# vethbridge's namespace suite on the VM's kernel (Debian's cloud kernel, older
# than the host's): a compatibility check of the same tests `make
# test-integration` runs natively. The guest gets bin/, the conf/ examples,
# and the few host tools the tests call (sh, cat, ping, bridge, ip6tables, nft).
space := $(subst ,, )
VETHBRIDGE_VM_FILES = $(BIN):$(CURDIR)/go.mod:$(CURDIR)/conf:/bin/sh:/usr/bin/cat:/usr/bin/ping:/usr/bin/env:/usr/sbin/bridge:/usr/sbin/nft:$(subst $(space),:,$(wildcard /usr/sbin/ip6tables*))

.PHONY: test-vethbridge-vm
test-vethbridge-vm: build vmexec vm-host-tools ## the integration/vethbridge suite inside the VM
	@echo "==> vethbridge namespace suite inside the VM kernel (compatibility with an older kernel)"
	@# TestMakeInstall* drives scripts/install.sh (bash, coreutils): it tests
	@# the script, not the kernel, and runs natively in test-integration.
	NETSTEER_VM=always NETSTEER_VM_TIMEOUT=20m NETSTEER_VM_FILES='$(VETHBRIDGE_VM_FILES)' $(GO) test -count=1 -tags integration \
		-timeout 20m -exec $(BIN)/vmexec -skip '^TestMakeInstall' ./integration/vethbridge/ -v
	@echo "==> vethbridge namespace suite passed in the VM"
