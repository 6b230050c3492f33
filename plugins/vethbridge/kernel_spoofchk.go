package main

import (
	"errors"
	"net"
	"os/exec"
	"strings"

	"github.com/netsteer/netsteer/pkg/spoofchk"
)

// kernelSpoofCheck is SpoofChecker on the nft binary: one listing of the
// chain, then at most one `nft -f` transaction.
type kernelSpoofCheck struct{}

var _ SpoofChecker = kernelSpoofCheck{}

// list reads the chain; a missing table or chain holds no rules.
func (kernelSpoofCheck) list() ([]spoofchk.Listed, error) {
	out, err := output("nft", spoofchk.ListArgs()...)
	if err != nil {
		if isNoSuchTable(err) {
			return nil, nil
		}
		return nil, err
	}
	return spoofchk.Parse([]byte(out))
}

func (k kernelSpoofCheck) EnsurePort(network, port string, mac net.HardwareAddr) error {
	return k.apply(func(listed []spoofchk.Listed) string {
		return spoofchk.EnsureScript(spoofchk.Rule{Network: network, Port: port, MAC: mac}, listed)
	})
}

// apply lists the chain and runs the script plan makes of it. Rules are
// deleted by handle, so a script fails when a concurrent DEL or GC removed
// one of them first; the chain is then listed and planned again.
func (k kernelSpoofCheck) apply(plan func([]spoofchk.Listed) string) error {
	var err error
	for range 3 {
		var listed []spoofchk.Listed
		if listed, err = k.list(); err != nil {
			return err
		}
		script := plan(listed)
		if script == "" {
			return nil
		}
		if err = run("nft", strings.NewReader(script), "-f", "-"); err == nil {
			return nil
		}
	}
	return err
}

func (k kernelSpoofCheck) DeletePorts(network string, drop func(string) bool) error {
	if _, err := exec.LookPath("nft"); err != nil {
		return nil // without nft no rule was ever made
	}
	return k.apply(func(listed []spoofchk.Listed) string { return spoofchk.DeleteScript(network, listed, drop) })
}

func (k kernelSpoofCheck) CheckPort(network, port string, mac net.HardwareAddr) error {
	listed, err := k.list()
	if err != nil {
		return err
	}
	return spoofchk.Check(spoofchk.Rule{Network: network, Port: port, MAC: mac}, listed)
}

func (kernelSpoofCheck) Usable() error {
	if _, err := exec.LookPath("nft"); err != nil {
		return errors.New("nft not found in PATH (install the nftables package)")
	}
	if _, err := ruleGeneration(); err != nil {
		return errors.New("nf_tables is not usable in this kernel: " + err.Error())
	}
	return nil
}
