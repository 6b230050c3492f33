// Package leases finds and releases IPAM reservations for GC.
// host-local (containernetworking/plugins v1.9.1) implements no GC: its
// GC is a no-op, so after a reboot or a lost runtime state its
// reservations would stay forever. The plugins therefore read host-local's
// store to find who holds an address, and release stale holders through
// host-local's own DEL, which keeps host-local's locking and file format
// its own business.
package leases

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/delegate"
)

// HostLocal reads host-local's store (read only) and releases through the
// delegated plugin's own DEL.
type HostLocal struct{ delegate.Plugins }

// Holders lists host-local's reservations of network; other IPAM plugins'
// stores are their own business, and GC leaves them to their GC.
func (HostLocal) Holders(plugin string, conf []byte, network string) ([]types.GCAttachment, error) {
	if plugin != "host-local" {
		return nil, nil
	}
	dir, err := hostLocalDir(conf, network)
	if err != nil {
		return nil, fmt.Errorf("reading host-local's dataDir from the config: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing host-local reservations: %w", err)
	}
	var out []types.GCAttachment
	for _, e := range entries {
		if !e.Type().IsRegular() || !isHostLocalReservation(e.Name()) {
			continue
		}
		a, ok, err := readReservation(dir, e.Name())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// readReservation reads one reservation file of host-local's store; ok
// is false when it was released while we listed or names no attachment.
func readReservation(dir, name string) (a types.GCAttachment, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("reading host-local reservation %s: %w", name, err)
	}
	id, ifname, ok := parseHostLocalReservation(string(b))
	return types.GCAttachment{ContainerID: id, IfName: ifname}, ok, nil
}

// Release runs the IPAM plugin's DEL as if for attachment a: GC's own
// environment names no attachment. exec keeps the last of duplicate
// variables, so the appended ones win.
func (l HostLocal) Release(plugin string, conf []byte, a types.GCAttachment) error {
	p := l.Plugins
	p.Env = append(slices.Clone(p.Env), "CNI_CONTAINERID="+a.ContainerID, "CNI_IFNAME="+a.IfName, "CNI_NETNS=")
	return p.Del(plugin, conf)
}

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
