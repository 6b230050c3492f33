package main

import (
	"context"

	"github.com/containernetworking/cni/pkg/invoke"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// execIPAM is IPAM on the delegated plugin binary found in CNI_PATH, run
// with our own CNI_* environment, as the spec prescribes.
type execIPAM struct{}

var _ IPAM = execIPAM{}

func (execIPAM) Add(plugin string, conf []byte) (*current.Result, error) {
	r, err := invoke.DelegateAdd(context.Background(), plugin, conf, nil)
	if err != nil {
		return nil, err
	}
	return current.NewResultFromResult(r)
}

func (execIPAM) Del(plugin string, conf []byte) error {
	return invoke.DelegateDel(context.Background(), plugin, conf, nil)
}

func (execIPAM) Check(plugin string, conf []byte) error {
	return invoke.DelegateCheck(context.Background(), plugin, conf, nil)
}

func (execIPAM) GC(plugin string, conf []byte) error {
	return invoke.DelegateGC(context.Background(), plugin, conf, nil)
}

func (execIPAM) Status(plugin string, conf []byte) error {
	return invoke.DelegateStatus(context.Background(), plugin, conf, nil)
}
