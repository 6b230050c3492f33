// Package containerd holds the end-to-end test that drives our CNI plugins
// through a real containerd CRI plugin, the way the kubelet does: it starts a
// private containerd (own root, state, socket, CNI dirs), talks CRI v1 over
// its socket and checks each pod's network in the kernel's own words. The
// tests carry the build tag e2e, need root, containerd, runc and the built
// binaries in bin/; run them with `make test-e2e`.
package containerd
