package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/delegate"
)

// hostLocalLeases is Leases on host-local's store (read only) and on the
// delegated plugin's own DEL.
type hostLocalLeases struct{ delegate.Plugins }

var _ Leases = hostLocalLeases{}

// Holders lists host-local's reservations of network; other IPAM plugins'
// stores are their own business, and GC leaves them to their GC.
func (hostLocalLeases) Holders(plugin string, conf []byte, network string) ([]types.GCAttachment, error) {
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
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if os.IsNotExist(err) {
			continue // released while we listed
		}
		if err != nil {
			return nil, fmt.Errorf("reading host-local reservation %s: %w", e.Name(), err)
		}
		if id, ifname, ok := parseHostLocalReservation(string(b)); ok {
			out = append(out, types.GCAttachment{ContainerID: id, IfName: ifname})
		}
	}
	return out, nil
}

// Release runs the IPAM plugin's DEL as if for attachment a: GC's own
// environment names no attachment. exec keeps the last of duplicate
// variables, so the appended ones win.
func (l hostLocalLeases) Release(plugin string, conf []byte, a types.GCAttachment) error {
	p := l.Plugins
	p.Env = append(slices.Clone(p.Env), "CNI_CONTAINERID="+a.ContainerID, "CNI_IFNAME="+a.IfName, "CNI_NETNS=")
	return p.Del(plugin, conf)
}
