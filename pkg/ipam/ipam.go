// Package ipam is the delegated IPAM plugin bound to one network config,
// and the policy both netsteer plugins apply to it: which code an IPAM
// failure gets, that an ADD without addresses is a failure, how GC sweeps
// leases, and how STATUS reports IPAM. A config without IPAM binds a
// Client whose every method is a no-op, so call sites never branch on it.
package ipam

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// Exec runs a CNI command of the IPAM plugin called plugin with conf on
// its stdin (pkg/delegate in production).
type Exec interface {
	Add(plugin string, conf []byte) (*current.Result, error)
	Del(plugin string, conf []byte) error
	Check(plugin string, conf []byte) error
	GC(plugin string, conf []byte) error
	Status(plugin string, conf []byte) error
}

// Leases is what GC needs from IPAM beyond forwarding GC to it: who holds
// an address, and releasing an attachment other than the one in the
// environment (pkg/leases in production).
type Leases interface {
	// Holders lists the attachments holding an address of network; nil
	// for IPAM plugins whose store cannot be read.
	Holders(plugin string, conf []byte, network string) ([]types.GCAttachment, error)
	// Release runs the IPAM plugin's DEL for attachment a.
	Release(plugin string, conf []byte, a types.GCAttachment) error
}

// Client is the IPAM plugin of one network config.
type Client struct {
	// Type is the config's ipam.type; "" means no IPAM.
	Type string
	// Conf is the network config as the runtime sent it, passed on as is.
	Conf    []byte
	Network string
	Exec    Exec
	Leases  Leases
}

// Enabled reports whether the config names an IPAM plugin.
func (c Client) Enabled() bool { return c.Type != "" }

// Add allocates the attachment's addresses: nil without IPAM, code 102
// when the plugin fails or returns no address.
func (c Client) Add() (*current.Result, error) {
	if !c.Enabled() {
		return nil, nil
	}
	res, err := c.Exec.Add(c.Type, c.Conf)
	if err != nil {
		return nil, cnierr.IPAMError("allocating addresses with "+c.Type, err)
	}
	if len(res.IPs) == 0 {
		return nil, types.NewError(cnierr.IPAM, fmt.Sprintf("IPAM plugin %s returned no IP addresses", c.Type), "")
	}
	return res, nil
}

// Del releases the attachment's addresses (code 102 on failure).
func (c Client) Del() error {
	if !c.Enabled() {
		return nil
	}
	if err := c.Exec.Del(c.Type, c.Conf); err != nil {
		return cnierr.IPAMError("releasing addresses with "+c.Type, err)
	}
	return nil
}

// Check runs IPAM CHECK (code 102 on failure).
func (c Client) Check() error {
	if !c.Enabled() {
		return nil
	}
	if err := c.Exec.Check(c.Type, c.Conf); err != nil {
		return cnierr.IPAMError("IPAM CHECK with "+c.Type, err)
	}
	return nil
}

// Status reports whether IPAM would serve an ADD now: code 50 naming the
// plugin otherwise.
func (c Client) Status() error {
	if !c.Enabled() {
		return nil
	}
	if err := c.Exec.Status(c.Type, c.Conf); err != nil {
		return cnierr.NotAvailable(fmt.Sprintf("IPAM plugin %s: %v", c.Type, err))
	}
	return nil
}

// GC releases the addresses of every attachment not in valid: those in
// stale (whose kernel objects the plugin just removed) and those IPAM
// still holds a lease for. Then it forwards GC to IPAM, which gets the
// valid list in the config. It goes on after a failure and joins them.
func (c Client) GC(valid []types.GCAttachment, stale []types.GCAttachment) error {
	if !c.Enabled() {
		return nil
	}
	keep := map[types.GCAttachment]bool{}
	for _, a := range valid {
		keep[a] = true
	}
	var errs []error
	holders, err := c.Leases.Holders(c.Type, c.Conf, c.Network)
	if err != nil {
		errs = append(errs, cnierr.IPAMError("listing "+c.Type+" reservations", err))
	}
	for _, a := range append(stale, holders...) {
		if keep[a] {
			continue
		}
		keep[a] = true // release each attachment once
		if err := c.Leases.Release(c.Type, c.Conf, a); err != nil {
			errs = append(errs, cnierr.IPAMError(fmt.Sprintf("releasing addresses of %s/%s with %s", a.ContainerID, a.IfName, c.Type), err))
		}
	}
	if err := c.Exec.GC(c.Type, c.Conf); err != nil {
		errs = append(errs, cnierr.IPAMError("IPAM GC with "+c.Type, err))
	}
	return errors.Join(errs...)
}
