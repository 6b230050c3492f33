package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
)

// host-local (containernetworking/plugins v1.9.1) implements no GC: its
// GC is a no-op, so after a reboot or a lost runtime state its
// reservations would stay forever. vethbridge therefore reads host-local's
// store to find who holds an address, and releases stale holders through
// host-local's own DEL, which keeps host-local's locking and file format
// its own business.

// hostLocalDefaultDataDir is host-local's default "dataDir".
const hostLocalDefaultDataDir = "/var/lib/cni/networks"

// hostLocalDir is the directory where host-local keeps network's
// reservations under conf's "ipam.dataDir".
func hostLocalDir(conf []byte, network string) (string, error) {
	var c struct {
		IPAM struct {
			DataDir string `json:"dataDir"`
		} `json:"ipam"`
	}
	if err := json.Unmarshal(conf, &c); err != nil {
		return "", err
	}
	dir := c.IPAM.DataDir
	if dir == "" {
		dir = hostLocalDefaultDataDir
	}
	return filepath.Join(dir, network), nil
}

// isHostLocalReservation reports whether a file name in host-local's
// network dir is a reservation (named by the address) rather than its
// lock or last_reserved_ip.<range> bookkeeping.
func isHostLocalReservation(name string) bool {
	return name != "lock" && !strings.HasPrefix(name, "last_reserved_ip")
}

// parseHostLocalReservation reads a reservation file: the container ID and
// the interface name, separated by "\r\n". Files from host-local before
// 0.8 hold the ID alone and report ok=false: without the interface name
// GC cannot tell whether the attachment is valid.
func parseHostLocalReservation(content string) (containerID, ifname string, ok bool) {
	id, ifname, found := strings.Cut(content, "\r\n")
	id, ifname = strings.TrimSpace(id), strings.TrimSpace(ifname)
	if !found || id == "" || ifname == "" {
		return "", "", false
	}
	return id, ifname, true
}
