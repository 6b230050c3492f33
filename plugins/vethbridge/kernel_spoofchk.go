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
	listed, err := k.list()
	if err != nil {
		return err
	}
	script := spoofchk.EnsureScript(spoofchk.Rule{Network: network, Port: port, MAC: mac}, listed)
	if script == "" {
		return nil
	}
	return run("nft", strings.NewReader(script), "-f", "-")
}

func (k kernelSpoofCheck) DeletePorts(network string, drop func(string) bool) error {
	if _, err := exec.LookPath("nft"); err != nil {
		return nil // without nft no rule was ever made
	}
	listed, err := k.list()
	if err != nil {
		return err
	}
	script := spoofchk.DeleteScript(network, listed, drop)
	if script == "" {
		return nil
	}
	return run("nft", strings.NewReader(script), "-f", "-")
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
