package oplog

import (
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		conf     string
		want     Config
		wantCode uint
		wantKey  string
	}{
		{conf: `{"name":"n"}`},
		{conf: `not json`}, // the plugin's own decoding reports it (code 6)
		{conf: `{"log":null}`},
		{conf: `{"log":{"file":"/var/log/netsteer.log"}}`, want: Config{File: "/var/log/netsteer.log", MaxBytes: DefaultMaxBytes}},
		{conf: `{"log":{"file":"/var/log/n.log","maxBytes":4096}}`, want: Config{File: "/var/log/n.log", MaxBytes: 4096}},
		{conf: `{"log":{"file":"/var/log/n.log","maxBytes":4095}}`, wantCode: 7, wantKey: "log.maxBytes"},
		{conf: `{"log":{"file":"/var/log/n.log","maxBytes":-1}}`, wantCode: 7, wantKey: "log.maxBytes"},
		{conf: `{"log":{"file":"/var/log/n.log","maxBytes":"big"}}`, wantCode: 7, wantKey: "log"},
		{conf: `{"log":{"file":"/var/log/n.log","level":"debug"}}`, wantCode: 2, wantKey: "log.level"},
		{conf: `{"log":"/var/log/n.log"}`, wantCode: 7, wantKey: "log"},
		{conf: `{"log":{}}`, wantCode: 7, wantKey: "log.file"},
		{conf: `{"log":{"file":"n.log"}}`, wantCode: 7, wantKey: "log.file"},
		{conf: `{"log":{"file":"/var/log/../../etc/shadow"}}`, wantCode: 7, wantKey: "log.file"},
		{conf: `{"log":{"file":"/var/log/"}}`, wantCode: 7, wantKey: "log.file"},
		{conf: `{"log":{"file":"/"}}`, wantCode: 7, wantKey: "log.file"},
		{conf: `{"log":{"file":"/var//log/n.log"}}`, wantCode: 7, wantKey: "log.file"},
		{conf: `{"log":{"file":"/var/log/n\nlog"}}`, wantCode: 7, wantKey: "log.file"},
		{conf: `{"log":{"file":"/` + strings.Repeat("a", 1100) + `"}}`, wantCode: 7, wantKey: "log.file"},
	} {
		t.Run(tc.conf[:min(len(tc.conf), 60)], func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.conf))
			if tc.wantCode == 0 {
				if err != nil || got != tc.want {
					t.Fatalf("ParseConfig = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			var te *types.Error
			if !errors.As(err, &te) || te.Code != tc.wantCode || !strings.Contains(te.Msg, `"`+tc.wantKey+`"`) {
				t.Fatalf("ParseConfig error = %v, want code %d naming %q", err, tc.wantCode, tc.wantKey)
			}
		})
	}
}
