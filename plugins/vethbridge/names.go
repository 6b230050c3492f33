package main

import (
	"github.com/netsteer/netsteer/pkg/alias"
)

// Every kernel object vethbridge makes is named from (network, container
// ID, ifname) or from the network alone, so DEL and GC find them without
// saved state.

// hostVethName is the host end of an attachment's veth: "nsv" and 72
// bits of a hash in 12 characters, 15 bytes, the kernel's limit.
func hostVethName(network, containerID, ifname string) string {
	return alias.LinkName("nsv", network, containerID, ifname)
}

// aliasPrefix starts every host veth alias; GC lists links by it.
const aliasPrefix = alias.Prefix

// vethAlias is the host veth's alias: it records the attachment, so GC can
// tell which attachment a veth belongs to from the kernel alone.
func vethAlias(network, containerID, ifname string) string {
	return alias.Attachment(network, containerID, ifname)
}

// parseAlias reverses vethAlias.
func parseAlias(s string) (network, containerID, ifname string, ok bool) { return alias.Parse(s) }
