package cnierr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/steps"
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

func TestOutcome(t *testing.T) {
	ipamErr := types.NewError(IPAM, "allocating: full", "")
	for _, tc := range []struct {
		name string
		err  error
		code uint
	}{
		{"nil", nil, 0},
		{"plain is a kernel failure", errors.New("netlink: busy"), Kernel},
		{"a coded error keeps its code", fmt.Errorf("ipam: %w", ipamErr), IPAM},
		{"rollback failure wins", errors.Join(&steps.StepError{Step: "ipam", Err: ipamErr}, &steps.RollbackError{Err: errors.New("stuck")}), Rollback},
		{"rollback failing with the step's own code keeps it", errors.Join(&steps.StepError{Step: "ipam", Err: ipamErr}, &steps.RollbackError{Err: ipamErr}), IPAM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Outcome(tc.err)
			if tc.err == nil {
				if err != nil {
					t.Errorf("Outcome(nil) = %#v, want nil", err)
				}
				return
			}
			var te *types.Error
			if !errors.As(err, &te) || te.Code != tc.code || te.Msg != tc.err.Error() {
				t.Errorf("Outcome = %v, want code %d with message %q", err, tc.code, tc.err.Error())
			}
		})
	}
}
