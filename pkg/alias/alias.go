// Package alias owns the interface alias netsteer gives the link of every
// attachment it makes (vethbridge's host veth, ipvlan's container link):
// "netsteer:<network>:<container ID>:<ifname>". It records whose link it
// is in the kernel itself, so DEL, GC and `netsteer inspect` tell an
// attachment's link from any other without saved state.
package alias

import "strings"

// Prefix starts every attachment alias.
const Prefix = "netsteer:"

// Attachment is the alias of the attachment (network, containerID, ifname).
// None of the three may contain ':' (the plugins validate them), so the
// alias parses back unambiguously.
func Attachment(network, containerID, ifname string) string {
	return Prefix + network + ":" + containerID + ":" + ifname
}

// Parse reverses Attachment; ok is false for any other alias, including
// one with an empty or extra field.
func Parse(alias string) (network, containerID, ifname string, ok bool) {
	rest, found := strings.CutPrefix(alias, Prefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}
