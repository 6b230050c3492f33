package sysctl

import (
	"strings"
	"testing"
)

// FuzzParseKey checks that no input makes ParseKey panic or produce a key
// that escapes net/, and that accepted keys survive both of their printed
// forms. Seeds live in testdata/fuzz/FuzzParseKey.
func FuzzParseKey(f *testing.F) {
	f.Add("net.ipv4.conf.eth0.100.rp_filter", "")
	f.Add("net.ipv4.conf.IFNAME.rp_filter", "eth0.100")
	f.Fuzz(func(t *testing.T, s, ifname string) {
		k, err := ParseKey(s, ifname)
		if err != nil {
			if k != (Key{}) {
				t.Fatalf("ParseKey(%q, %q) returned key %q with error %v", s, ifname, k.Path(), err)
			}
			return
		}
		p := k.Path()
		if !strings.HasPrefix(p, "net/") {
			t.Fatalf("ParseKey(%q, %q).Path() = %q, does not start with net/", s, ifname, p)
		}
		if strings.Contains(p, "..") {
			t.Fatalf("ParseKey(%q, %q).Path() = %q contains \"..\"", s, ifname, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." {
				t.Fatalf("ParseKey(%q, %q).Path() = %q has segment %q", s, ifname, p, seg)
			}
		}
		for _, form := range []string{p, k.String()} {
			again, err := ParseKey(form, ifname)
			if err != nil {
				t.Fatalf("ParseKey(%q, %q) = %q, but reparsing %q fails: %v", s, ifname, p, form, err)
			}
			if again != k {
				t.Fatalf("ParseKey(%q, %q) = %q, but reparsing %q gives %q", s, ifname, p, form, again.Path())
			}
		}
	})
}
