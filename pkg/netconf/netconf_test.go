package netconf

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"net", true}, {"k8s-pod-network", true}, {"a.b_c-1", true}, {"0net", true},
		{strings.Repeat("a", 64), true}, {strings.Repeat("a", 65), false},
		{"", false}, {"-net", false}, {".net", false}, {"my net", false}, {"a:b", false}, {"a/b", false}, {"ü", false},
	} {
		if err := ValidateName(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestValidateContainerID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0123abcdef", true}, {"cnitool-7e8e4a36ab52", true}, {strings.Repeat("f", 128), true},
		{strings.Repeat("f", 129), false}, {"", false}, {"_x", false}, {"a;b", false}, {"a b", false},
	} {
		if err := ValidateContainerID(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidateContainerID(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestValidateIfName(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"eth0", true}, {"eth0.100", true}, {"net1", true}, {strings.Repeat("a", 15), true},
		{strings.Repeat("a", 16), false}, {"", false}, {".", false}, {"..", false}, {"-x", false},
		{"a/b", false}, {"a:b", false}, {"a b", false}, {"a\nb", false},
	} {
		if err := ValidateIfName("bridge", tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidateIfName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u1", true},
		{"K8S_POD_NAME=web", true},
		{"MAC=02:00:00:00:00:01", true},
		{"FOO=bar", false},
		{"IgnoreUnknown=1;FOO=bar", true},
		{"garbage", false},
		{strings.Repeat("A=", 3000), false},
	} {
		if _, err := ParseArgs(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseArgs(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}
