// Package ipvlan holds the VM integration tests of the ipvlan plugin. With
// the build tag vm they run the real bin/ipvlan and bin/host-local through
// libcni in namespaces of their own, inside the throwaway VM of
// integration/vmexec (these machines' kernels lack ipvlan and dummy), and
// assert what the kernel reports: `ip -j`, /proc/sys, and host-local's
// reservation files. Run them with `make test-ipvlan-vm`, or
//
//	NETSTEER_VM_FILES=$PWD/bin go test -count=1 -tags vm -exec $PWD/bin/vmexec ./integration/ipvlan/ -v
//
// Processes and leak bookkeeping come from integration/nstest like every
// other suite's: plugins start through nstest.StartIn and are reaped with
// nstest.Proc, and host-local reservations and libcni's cache are read by
// nstest.HostLocalReservations and nstest.CachedResults. What stays here is
// a thin namespace adapter (netns_test.go, leak_test.go), because the VM
// guest is a static test binary with only `ip` beside it: no shell or
// coreutils for nstest.Netns's `ip netns exec cat`/`sh -c` sysctl access,
// and forking `ip` per check is slow under emulation. The adapter holds an
// open netns handle and reads links, sysctls and sockets from Go on a
// thread locked into the namespace.
package ipvlan
