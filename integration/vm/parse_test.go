package vm

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLdd(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    []string
		wantErr string
	}{
		{
			name: "one file",
			out: "\tlinux-vdso.so.1 (0x00007ffd1a5f2000)\n" +
				"\tlibmnl.so.0 => /lib/x86_64-linux-gnu/libmnl.so.0 (0x00007f2d7c2a0000)\n" +
				"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2d7c0bf000)\n" +
				"\t/lib64/ld-linux-x86-64.so.2 (0x00007f2d7c2e6000)\n",
			want: []string{"/lib/x86_64-linux-gnu/libmnl.so.0", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"},
		},
		{
			name: "several files deduplicated",
			out: "/usr/sbin/ip:\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n\t/lib64/ld-linux-x86-64.so.2 (0x2)\n" +
				"/usr/lib/x86_64-linux-gnu/xtables/libxt_comment.so:\n\tlibxtables.so.12 => /lib/x86_64-linux-gnu/libxtables.so.12 (0x3)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x4)\n",
			want: []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libxtables.so.12"},
		},
		{
			name: "static binary",
			out:  "\tstatically linked\n",
		},
		{
			name:    "missing library",
			out:     "\tlibfoo.so.1 => not found\n",
			wantErr: "shared library libfoo.so.1: not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLdd(tt.out)
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
				t.Errorf("ParseLdd = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseAptDepends(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    string
		wantErr bool
	}{
		{"bookworm", "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n", "linux-image-6.1.0-56-cloud-amd64", false},
		{"first of several", "linux-image-cloud-amd64\n  Depends: linux-base\n  Depends: linux-image-6.12.9+bpo-cloud-amd64\n  Depends: linux-image-6.1.0-1-cloud-amd64\n", "linux-image-6.12.9+bpo-cloud-amd64", false},
		{"alternative ignored", "x\n |Depends: linux-image-6.1.0-9-cloud-amd64\n", "", true},
		{"unversioned only", "x\n  Depends: linux-image-cloud-amd64-unsigned\n", "", true},
		{"unknown package", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAptDepends(tt.out)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseAptDepends = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
