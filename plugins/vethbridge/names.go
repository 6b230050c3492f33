package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Every kernel object vethbridge makes is named from (network, container
// ID, ifname) or from the network alone, so DEL and GC find them without
// saved state.

// hostVethName is the host end of an attachment's veth: "nsv" and 12 hex
// digits of a hash, 15 bytes, the kernel's limit.
func hostVethName(network, containerID, ifname string) string {
	return "nsv" + digest(network, containerID, ifname)[:12]
}

// aliasPrefix starts every host veth alias; GC lists links by it.
const aliasPrefix = "netsteer:"

// vethAlias is the host veth's alias: it records the attachment, so GC can
// tell which attachment a veth belongs to from the kernel alone.
func vethAlias(network, containerID, ifname string) string {
	return aliasPrefix + network + ":" + containerID + ":" + ifname
}

// parseAlias reverses vethAlias. Network names and container IDs cannot
// contain ':' (both are validated), and neither can interface names.
func parseAlias(alias string) (network, containerID, ifname string, ok bool) {
	rest, found := strings.CutPrefix(alias, aliasPrefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
