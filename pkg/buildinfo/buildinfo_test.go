package buildinfo

import (
	"bytes"
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	withVCS := &debug.BuildInfo{
		Main:     debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}},
	}
	tagged := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}
	for _, tc := range []struct {
		name string
		v, c string
		bi   *debug.BuildInfo
		want Info
	}{
		{"linker flags win", "v0.3-2-gdeadbee-dirty", "deadbeef", tagged, Info{"v0.3-2-gdeadbee-dirty", "deadbeef"}},
		{"go install of a tag", "", "", tagged, Info{"v1.2.3", Unknown}},
		{"devel with vcs stamp", "", "", withVCS, Info{Unknown, "abc123"}},
		{"no build info", "", "", nil, Info{Unknown, Unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.v, tc.c, func() (*debug.BuildInfo, bool) { return tc.bi, tc.bi != nil })
			if got != tc.want {
				t.Errorf("resolve = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPrintIfAsked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--version"}, true},
		{[]string{"-version"}, true},
		{nil, false},
		{[]string{"--version", "x"}, false},
		{[]string{"inspect"}, false},
	} {
		var b bytes.Buffer
		got := PrintIfAsked("netsteer test", tc.args, &b)
		if got != tc.want || (b.Len() > 0) != tc.want {
			t.Errorf("PrintIfAsked(%q) = %v, printed %q", tc.args, got, b.String())
		}
		if got && !bytes.HasPrefix(b.Bytes(), []byte("netsteer test version ")) {
			t.Errorf("PrintIfAsked(%q) printed %q", tc.args, b.String())
		}
	}
}
