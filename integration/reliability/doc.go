//go:build integration

// Package reliability attacks the real vethbridge binary the way a bad day
// on a node does: the plugin killed at random points of ADD and DEL, the
// netns, bridge, IPAM binary or iptables gone, a simulated reboot followed
// by GC, a hundred ADDs and DELs at once, and hostile input. Every test
// runs in namespaces it creates (named nst-*), ends with the leak checker
// of integration/nstest, and logs the figures RELIABILITY.md quotes.
package reliability
