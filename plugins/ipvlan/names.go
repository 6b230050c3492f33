package main

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/netsteer/netsteer/pkg/alias"
)

// The ipvlan link is the only kernel object an attachment owns, and it
// lives in the container netns. Its temporary name and its alias derive
// from (network, container ID, ifname), so DEL finds a link left by a
// crashed ADD without saved state.

// tempName is the name ADD creates the link under before renaming it to
// CNI_IFNAME: "nsi" and 12 hex digits, 15 bytes, the kernel's limit.
// Creating under CNI_IFNAME directly can collide with a host link of that
// name while the kernel still resolves it (upstream's comment on this).
func tempName(network, containerID, ifname string) string {
	return "nsi" + digest(network, containerID, ifname)[:12]
}

// linkAlias marks the link as this attachment's. DEL deletes CNI_IFNAME
// only when it carries this alias, so an interface that was there before
// a refused ADD is never removed.
func linkAlias(network, containerID, ifname string) string {
	return alias.Attachment(network, containerID, ifname)
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0}) // a separator no part contains, so ("ab","c") ≠ ("a","bc")
	}
	return hex.EncodeToString(h.Sum(nil))
}
