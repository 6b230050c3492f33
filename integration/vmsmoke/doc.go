// Package vmsmoke proves the VM harness works: with the build tag vm, its
// tests create ipvlan links (which this project's host kernels lack) in
// namespaces of their own, pass traffic between them, and run iptables.
// Run them with `make test-vm-smoke`, or
//
//	go test -exec "$PWD/bin/vmexec" -tags vm ./integration/vmsmoke/ -v
package vmsmoke
