package netconf

import (
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

func TestLinkNameProblem(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string // substring of the reason
	}{
		{in: "cni0", ok: true}, {in: "eth0.100", ok: true}, {in: "br_pods-1", ok: true},
		{in: "A1", ok: true}, {in: "nstbr0123456789", ok: true},
		// iptables wildcards, kernel name templates, path and alias separators
		{in: "+", want: "start with"}, {in: "br+", want: `'+'`}, {in: "rtb%d", want: `'%'`},
		{in: "a/b", want: `'/'`}, {in: "a:b", want: `':'`}, {in: "a b", want: `' '`},
		{in: "a*", want: `'*'`}, {in: "a!", want: `'!'`}, {in: "a\x00", want: `'\x00'`},
		{in: "brü", want: "not allowed"}, {in: "a\nb", want: "not allowed"},
		// names with a meaning of their own
		{in: "all", want: "reserved"}, {in: "default", want: "reserved"}, {in: "lo", want: "reserved"},
		{in: "bonding_masters", want: "reserved"},
		// shapes
		{in: "", want: "empty"}, {in: "nstbr0123456789a", want: "15 bytes"},
		{in: "-br", want: "start with"}, {in: ".br", want: "start with"}, {in: "_br", want: "start with"},
		{in: "a..b", want: `".."`}, {in: "..", want: "start with"},
	} {
		got := LinkNameProblem(tc.in)
		if (got == "") != tc.ok || !strings.Contains(got, tc.want) {
			t.Errorf("LinkNameProblem(%q) = %q, want ok=%v containing %q", tc.in, got, tc.ok, tc.want)
		}
	}
}

func TestValidateLinkNameCodes(t *testing.T) {
	var te *types.Error
	if err := ValidateLinkName("bridge", "+"); !errors.As(err, &te) || te.Code != types.ErrInvalidNetworkConfig ||
		!strings.Contains(te.Msg, `"bridge"`) || !strings.Contains(te.Msg, `"+"`) {
		t.Errorf(`ValidateLinkName("bridge", "+") = %v, want code 7 naming key and value`, err)
	}
	if err := ValidateNewIfName("a..b"); !errors.As(err, &te) || te.Code != types.ErrInvalidEnvironmentVariables ||
		!strings.Contains(te.Msg, "CNI_IFNAME") || !strings.Contains(te.Msg, "a..b") {
		t.Errorf(`ValidateNewIfName("a..b") = %v, want code 4 naming CNI_IFNAME and value`, err)
	}
}

// FuzzLinkNameProblem checks that every accepted name is a literal of the
// safe alphabet, whatever the input.
func FuzzLinkNameProblem(f *testing.F) {
	for _, s := range []string{"cni0", "+", "rtb%d", "all", "a..b", "eth0.100", "lo", "br\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if LinkNameProblem(s) != "" {
			return
		}
		if len(s) == 0 || len(s) > 15 || strings.Contains(s, "..") || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != "" {
			t.Fatalf("LinkNameProblem accepted %q", s)
		}
		for _, r := range reservedLinkNames {
			if s == r {
				t.Fatalf("LinkNameProblem accepted reserved %q", s)
			}
		}
	})
}
