// Command vmexec runs a Go test binary inside a throwaway QEMU VM when the
// host kernel lacks ipvlan, and natively otherwise:
//
//	go test -exec "$PWD/bin/vmexec" -tags vm ./plugins/ipvlan/...
//
// The same static binary is the guest's /init; it tells the two roles
// apart by being PID 1. See package integration/vm for the environment
// variables (NETSTEER_VM, NETSTEER_VM_FILES, NETSTEER_VM_TIMEOUT, …).
package main

import (
	"os"

	"github.com/netsteer/netsteer/integration/vm"
)

func main() {
	if os.Getpid() == 1 {
		vm.RunGuest()
	}
	os.Exit(vm.RunHost(os.Args[1:], os.Stdout, os.Stderr))
}
