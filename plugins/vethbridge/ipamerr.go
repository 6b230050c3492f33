package main

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// ipamError gives a failure of the delegated IPAM plugin our code 102,
// whatever code the plugin printed: skel prints 999 for any plain error,
// which tells an operator nothing. Only 11 (try again later) is kept, as
// the runtime acts on it. The plugin's message is kept in ours.
func ipamError(what string, err error) error {
	var te *types.Error
	if errors.As(err, &te) && te.Code == types.ErrTryAgainLater {
		return fmt.Errorf("%s: %w", what, err)
	}
	return types.NewError(cnierr.IPAM, fmt.Sprintf("%s: %v", what, err), "")
}
