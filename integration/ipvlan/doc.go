// Package ipvlan holds the VM integration tests of the ipvlan plugin. With
// the build tag vm they run the real bin/ipvlan and bin/host-local through
// libcni in namespaces of their own, inside the throwaway VM of
// integration/vmexec (these machines' kernels lack ipvlan and dummy), and
// assert what the kernel reports: `ip -j`, /proc/sys, and host-local's
// reservation files. Run them with `make test-ipvlan-vm`, or
//
//	NETSTEER_VM_FILES=$PWD/bin go test -count=1 -tags vm -exec $PWD/bin/vmexec ./integration/ipvlan/ -v
package ipvlan
