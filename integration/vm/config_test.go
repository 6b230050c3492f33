package vm

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseHostConfig(t *testing.T) {
	defaults := HostConfig{Mode: ModeAuto, Timeout: DefaultTimeout, CacheDir: "/var/cache/netsteer/vm"}
	tests := []struct {
		name    string
		env     map[string]string
		want    HostConfig
		wantErr string
	}{
		{"unset", nil, defaults, ""},
		{"all set", map[string]string{
			"NETSTEER_VM":         "always",
			"NETSTEER_VM_TIMEOUT": "90s",
			"NETSTEER_CACHE":      "/srv/cache",
			"NETSTEER_VM_FILES":   "/work/bin::/opt/cni/bin/",
			"NETSTEER_VM_MODULES": "vxlan, geneve",
			"NETSTEER_VM_VERBOSE": "1",
		}, HostConfig{
			Mode: ModeAlways, Timeout: 90 * time.Second, CacheDir: "/srv/cache/vm",
			Files: []string{"/work/bin", "/opt/cni/bin"}, ExtraModules: []string{"vxlan", "geneve"},
			Verbose: true,
		}, ""},
		{"never", map[string]string{"NETSTEER_VM": "never"}, HostConfig{Mode: ModeNever, Timeout: DefaultTimeout, CacheDir: defaults.CacheDir}, ""},
		{"bad mode", map[string]string{"NETSTEER_VM": "yes"}, HostConfig{}, `NETSTEER_VM: "yes"`},
		{"bad timeout", map[string]string{"NETSTEER_VM_TIMEOUT": "10"}, HostConfig{}, `NETSTEER_VM_TIMEOUT: "10"`},
		{"negative timeout", map[string]string{"NETSTEER_VM_TIMEOUT": "-1m"}, HostConfig{}, `NETSTEER_VM_TIMEOUT: "-1m"`},
		{"relative file", map[string]string{"NETSTEER_VM_FILES": "bin"}, HostConfig{}, `NETSTEER_VM_FILES: "bin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHostConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseHostConfig = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGuestEnv(t *testing.T) {
	host := []string{
		"HOME=/home/dev", "PATH=/home/dev/bin", "NETSTEER_VM=always", "NETSTEER_IN_VM=0",
		"CNI_PATH=/work/bin", "GODEBUG=netdns=go", "GOFLAGS=-race", "TMPDIR=/scratch", "NETSTEERX=1",
	}
	want := []string{
		"PATH=" + guestPATH, "HOME=/root", "NETSTEER_IN_VM=1",
		"NETSTEER_VM=always", "CNI_PATH=/work/bin", "GODEBUG=netdns=go",
	}
	if got := GuestEnv(host); !reflect.DeepEqual(got, want) {
		t.Errorf("GuestEnv = %q\nwant %q", got, want)
	}
}
