package main

import (
	"github.com/netsteer/netsteer/pkg/alias"
)

// The ipvlan link is the only kernel object an attachment owns, and it
// lives in the container netns. Its temporary name and its alias derive
// from (network, container ID, ifname), so DEL finds a link left by a
// crashed ADD without saved state.

// tempName is the name ADD creates the link under before renaming it to
// CNI_IFNAME: "nsi" and 72 bits of a hash in 12 characters, 15 bytes, the
// kernel's limit.
// Creating under CNI_IFNAME directly can collide with a host link of that
// name while the kernel still resolves it (upstream's comment on this).
func tempName(network, containerID, ifname string) string {
	return alias.LinkName("nsi", network, containerID, ifname)
}

// linkAlias marks the link as this attachment's. DEL deletes CNI_IFNAME
// only when it carries this alias, so an interface that was there before
// a refused ADD is never removed.
func linkAlias(network, containerID, ifname string) string {
	return alias.Attachment(network, containerID, ifname)
}
