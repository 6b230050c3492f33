// Package alias owns the interface alias netsteer gives the link of every
// attachment it makes (vethbridge's host veth, ipvlan's container link):
// "netsteer:<network>:<container ID>:<ifname>". It records whose link it
// is in the kernel itself, so DEL, GC and `netsteer inspect` tell an
// attachment's link from any other without saved state.
package alias

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

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
	parts := strings.Split(rest, ":")
	if !found || len(parts) != 3 || slices.Contains(parts, "") {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// Claim reports whether the link called name, whose alias is have, may be
// deleted or replaced as want's: when have is want, or empty (a link a
// crashed ADD made before it set the alias). A link carrying any other
// alias belongs to someone else whose name collides with ours: Claim
// returns a code 104 error naming both, and the caller leaves it alone
// (issue 9, class 5).
func Claim(name, have, want string) error {
	if have == "" || have == want {
		return nil
	}
	return cnierr.Collided("link", name, have, want)
}

// LinkName is the link name derived from (network, containerID, ifname):
// prefix, then as many characters of a SHA-256 digest as the kernel's
// 15-byte limit leaves, 6 bits each (letters, digits, '-' and '_', all
// literal for the kernel and iptables). With a 3-byte prefix that is 72
// bits: finding two attachments that collide costs about 2^36 hashes.
func LinkName(prefix, network, containerID, ifname string) string {
	h := sha256.New()
	for _, p := range []string{network, containerID, ifname} {
		h.Write([]byte(p))
		h.Write([]byte{0}) // no part contains it, so ("ab","c") ≠ ("a","bc")
	}
	name := prefix + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	return name[:min(len(name), maxLinkName)]
}

// maxLinkName is IFNAMSIZ less the terminating NUL.
const maxLinkName = 15
