// Package vm runs one Go test binary inside a throwaway QEMU guest, for
// tests that need kernel features the host lacks (ipvlan, dummy, 802.1q).
//
// It owns the whole round trip: deciding whether the host kernel can run the
// test natively, fetching Debian's cloud kernel with apt, writing a newc cpio
// initramfs (the harness binary as /init, the test binary, the kernel modules
// and their dependencies, iproute2 and iptables with their shared libraries),
// booting QEMU under TCG, acting as PID 1 in the guest, and turning the
// guest's serial console back into the test's output and exit code. The
// pure parts (cpio, modinfo, load order, ldd output, console markers, config)
// are separate from the files that touch the host or the guest kernel.
package vm
