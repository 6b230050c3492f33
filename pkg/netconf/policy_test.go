package netconf

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

func TestCheckVersion(t *testing.T) {
	supported := []string{"0.3.1", "1.1.0"}
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"1.1.0", true}, {"0.3.1", true}, {"", false}, {"0.1.0", false}, {"9.9.9", false}} {
		err := CheckVersion(tc.v, supported)
		var te *types.Error
		if tc.ok != (err == nil) || !tc.ok && (!errors.As(err, &te) || te.Code != types.ErrIncompatibleCNIVersion || !strings.Contains(te.Msg, `"`+tc.v+`"`)) {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v or code 1 naming the value", tc.v, err, tc.ok)
		}
	}
}

func TestDecodeObjectNamesTheFirstUnknownKeyInOrder(t *testing.T) {
	var dst struct {
		MAC string `json:"mac"`
	}
	raw := json.RawMessage(`{"zz": 1, "mac": "x", "bb": 2, "cc": 3}`)
	for range 20 { // map order varies from run to run; the answer must not
		err := DecodeObject("runtimeConfig", raw, &dst, "mac")
		var te *types.Error
		if !errors.As(err, &te) || te.Code != types.ErrUnsupportedField || !strings.Contains(te.Msg, `"runtimeConfig.bb"`) {
			t.Fatalf("DecodeObject = %v, want code 2 naming runtimeConfig.bb", err)
		}
	}
	if err := DecodeObject("args.cni", json.RawMessage(`null`), &dst, "mac"); err != nil {
		t.Errorf("null: %v", err)
	}
	if err := DecodeObject("args.cni", json.RawMessage(`{"mac": "m"}`), &dst, "mac"); err != nil || dst.MAC != "m" {
		t.Errorf("known key: %v %q", err, dst.MAC)
	}
}
