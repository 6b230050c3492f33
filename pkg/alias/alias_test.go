package alias

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		alias           string
		net, id, ifname string
		ok              bool
	}{
		{Attachment("pods", "abc123", "eth0"), "pods", "abc123", "eth0", true},
		{"netsteer:pods:abc:eth0.100", "pods", "abc", "eth0.100", true},
		{"netsteer:pods:abc", "", "", "", false},
		{"netsteer:pods:abc:eth0:x", "", "", "", false},
		{"netsteer::abc:eth0", "", "", "", false},
		{"netsteer-rules:0123456789abcdef", "", "", "", false},
		{"operator's alias", "", "", "", false},
		{"", "", "", "", false},
	} {
		n, id, ifname, ok := Parse(tc.alias)
		if n != tc.net || id != tc.id || ifname != tc.ifname || ok != tc.ok {
			t.Errorf("Parse(%q) = %q %q %q %v, want %q %q %q %v", tc.alias, n, id, ifname, ok, tc.net, tc.id, tc.ifname, tc.ok)
		}
	}
}

func TestClaim(t *testing.T) {
	a, b := Attachment("net", "c1", "eth0"), Attachment("net", "c2", "eth0")
	for _, tc := range []struct {
		name, have string
		ok         bool
	}{
		{"ours", a, true},
		{"no alias yet (crashed ADD)", "", true},
		{"another attachment", b, false},
		{"another network", Attachment("other", "c1", "eth0"), false},
		{"not netsteer's", "uplink to rack 4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Claim("nsvX", tc.have, a)
			if (err == nil) != tc.ok {
				t.Fatalf("Claim(%q, want %q) = %v, want ok=%v", tc.have, a, err, tc.ok)
			}
			if err != nil && (codeOf(err) != 104 || !strings.Contains(err.Error(), tc.have) || !strings.Contains(err.Error(), a)) {
				t.Errorf("Claim error %v: want code 104 naming both %q and %q", err, tc.have, a)
			}
		})
	}
}

func codeOf(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestLinkNameUsesTheWholeBudget(t *testing.T) {
	seen, chars := map[string]bool{}, map[rune]bool{}
	for i := range 1000 {
		n := LinkName("nsv", "net", fmt.Sprint("c", i), "eth0")
		if len(n) != 15 || !strings.HasPrefix(n, "nsv") {
			t.Fatalf("LinkName = %q, want \"nsv\" and 12 characters", n)
		}
		if strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			t.Fatalf("LinkName = %q has a character outside [A-Za-z0-9_-]", n)
		}
		seen[n] = true
		for _, c := range n[3:] {
			chars[c] = true
		}
	}
	// 6 bits a character: all 64 symbols show up in 12,000 draws, where a
	// hex digest would show 16.
	if len(chars) != 64 {
		t.Errorf("hash characters use %d symbols, want 64", len(chars))
	}
	if len(seen) != 1000 {
		t.Errorf("1000 attachments gave %d names", len(seen))
	}
	if LinkName("nsv", "ab", "c", "eth0") == LinkName("nsv", "a", "bc", "eth0") {
		t.Error("the parts' boundary is ambiguous")
	}
}
