package cnierr

import (
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

func TestIPAMErrorCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code uint
	}{
		{"plain error", errors.New("exec: not found"), IPAM},
		{"skel's catch-all 999", types.NewError(999, "invalid CIDR address: 10.0.0.0/33", ""), IPAM},
		{"invalid config from IPAM", types.NewError(types.ErrInvalidNetworkConfig, "bad range", ""), IPAM},
		{"try again later is kept", types.NewError(types.ErrTryAgainLater, "busy", ""), types.ErrTryAgainLater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Wrap(Kernel, IPAMError("allocating addresses with host-local", tc.err))
			if got.Code != tc.code || !strings.Contains(got.Msg, "host-local") || !strings.Contains(got.Msg, tc.err.Error()) {
				t.Errorf("IPAMError(%v) = code %d %q, want code %d naming host-local and the cause", tc.err, got.Code, got.Msg, tc.code)
			}
		})
	}
}
