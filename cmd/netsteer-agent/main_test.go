package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		err  string
	}{
		{"node from env", nil, map[string]string{"NODE_NAME": "n1"}, ""},
		{"no node", nil, nil, "need -node"},
		{"off needs no node", []string{"-pod-routes=off"}, nil, ""},
		{"bad mode", []string{"-node=n1", "-pod-routes=maybe"}, nil, `-pod-routes "maybe"`},
		{"static routes protocol", []string{"-node=n1", "-route-protocol=4"}, nil, "-route-protocol 4"},
		{"kernel protocol", []string{"-node=n1", "-route-protocol=2"}, nil, "-route-protocol 2"},
		{"protocol too large", []string{"-node=n1", "-route-protocol=256"}, nil, "-route-protocol 256"},
		{"zero resync", []string{"-node=n1", "-resync=0s"}, nil, "-resync"},
		{"stray argument", []string{"-node=n1", "x"}, nil, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, env(tc.env), io.Discard)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			if tc.err == "" && o.listen != "127.0.0.1:9658" {
				t.Errorf("default listen %q, want loopback only", o.listen)
			}
		})
	}
}
