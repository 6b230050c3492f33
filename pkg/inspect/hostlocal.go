package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// readReservations lists host-local's reservations of network under
// dataDir: one file per address, named by it, holding the container ID
// and the interface name separated by "\r\n" (the format GC reads too,
// pkg/leases). Files from host-local before 0.8 name no interface and are
// skipped, as GC skips them.
func readReservations(dataDir, network string) ([]Reservation, error) {
	dir := filepath.Join(dataDir, network)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading host-local reservations of %s: %w", network, err)
	}
	var out []Reservation
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || name == "lock" || strings.HasPrefix(name, "last_reserved_ip") {
			continue
		}
		b, err := readSmall(filepath.Join(dir, name), 4096)
		if err != nil {
			continue // released while we listed
		}
		id, ifname, found := strings.Cut(string(b), "\r\n")
		id, ifname = strings.TrimSpace(id), strings.TrimSpace(ifname)
		if !found || id == "" || ifname == "" {
			continue
		}
		out = append(out, Reservation{Network: network, Address: name, ContainerID: id, IfName: ifname})
	}
	return out, nil
}
