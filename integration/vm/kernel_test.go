package vm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeKernelDir lays out an unpacked kernel package under cache/pkg.
func fakeKernelDir(t *testing.T, cache, pkg, modules string, complete bool) {
	t.Helper()
	dir := filepath.Join(cache, pkg)
	for _, d := range []string{filepath.Join(dir, "boot"), filepath.Join(dir, modules, "6.1.0-9-cloud-amd64")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "boot", "vmlinuz-6.1.0-9-cloud-amd64"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if complete {
		if err := os.WriteFile(filepath.Join(dir, completeMark), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenKernel(t *testing.T) {
	for _, modules := range []string{"lib/modules", "usr/lib/modules"} {
		t.Run(modules, func(t *testing.T) {
			cache := t.TempDir()
			fakeKernelDir(t, cache, "linux-image-x", modules, true)
			k, err := openKernel("linux-image-x", filepath.Join(cache, "linux-image-x"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(k.Vmlinuz, "/boot/vmlinuz-6.1.0-9-cloud-amd64") || !strings.HasSuffix(k.ModDir, modules+"/6.1.0-9-cloud-amd64") {
				t.Errorf("openKernel = %+v", k)
			}
		})
	}
	if _, err := openKernel("empty", t.TempDir()); err == nil {
		t.Error("openKernel of an empty directory succeeded")
	}
}

func TestRecentlyResolved(t *testing.T) {
	tests := []struct {
		name     string
		complete bool
		age      time.Duration
		wantOK   bool
	}{
		{"fresh and complete", true, time.Minute, true},
		{"stale", true, resolveTTL + time.Minute, false},
		{"incomplete fetch", false, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			fakeKernelDir(t, cache, "linux-image-x", "lib/modules", tt.complete)
			rememberResolved(cache, "linux-image-x", os.Stderr)
			past := time.Now().Add(-tt.age)
			if err := os.Chtimes(filepath.Join(cache, resolvedFile), past, past); err != nil {
				t.Fatal(err)
			}
			pkg, ok := recentlyResolved(cache)
			if ok != tt.wantOK || (ok && pkg != "linux-image-x") {
				t.Errorf("recentlyResolved = %q, %v; want ok=%v", pkg, ok, tt.wantOK)
			}
		})
	}
	if _, ok := recentlyResolved(t.TempDir()); ok {
		t.Error("recentlyResolved in an empty cache reported a package")
	}
}

func TestNewestCachedKernel(t *testing.T) {
	cache := t.TempDir()
	fakeKernelDir(t, cache, "linux-image-old", "lib/modules", true)
	fakeKernelDir(t, cache, "linux-image-new", "lib/modules", true)
	fakeKernelDir(t, cache, "linux-image-partial", "lib/modules", false)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(cache, "linux-image-old", completeMark), old, old); err != nil {
		t.Fatal(err)
	}
	k, err := newestCachedKernel(cache)
	if err != nil || k.Package != "linux-image-new" {
		t.Errorf("newestCachedKernel = %+v, %v; want linux-image-new", k, err)
	}
	if _, err := newestCachedKernel(t.TempDir()); err == nil {
		t.Error("newestCachedKernel in an empty cache succeeded")
	}
}
