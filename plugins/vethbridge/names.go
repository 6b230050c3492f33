package main

import (
	"crypto/sha256"
	"encoding/hex"

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

// legacyHostVethName is the name builds before the 72-bit names gave the
// host veth: "nsv" and 12 hex digits (48 bits) of the same kind of hash.
// DEL and GC still look for it, so a pod attached by such a build is
// released after an upgrade rather than leaving its veth on the node.
func legacyHostVethName(network, containerID, ifname string) string {
	h := sha256.New()
	for _, p := range []string{network, containerID, ifname} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "nsv" + hex.EncodeToString(h.Sum(nil))[:12]
}

// hostVethNames are every name the attachment's host veth may carry: the
// current one first.
func hostVethNames(network, containerID, ifname string) []string {
	return []string{hostVethName(network, containerID, ifname), legacyHostVethName(network, containerID, ifname)}
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
