package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "10-netsteer.conflist")

	wrote, err := writeAtomic(path, []byte("one"), 0o644)
	if err != nil || !wrote {
		t.Fatalf("first write = %v, %v; want written", wrote, err)
	}
	old := time.Unix(1, 0)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	wrote, err = writeAtomic(path, []byte("one"), 0o644)
	if err != nil || wrote {
		t.Fatalf("same content = %v, %v; want not written", wrote, err)
	}
	if st, err := os.Stat(path); err != nil || !st.ModTime().Equal(old) {
		t.Errorf("unchanged file was touched: %v %v", st.ModTime(), err)
	}
	wrote, err = writeAtomic(path, []byte("two"), 0o600)
	if err != nil || !wrote {
		t.Fatalf("new content = %v, %v; want written", wrote, err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "two" {
		t.Errorf("content = %q, %v; want two", data, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the file (no temp files left)", len(entries))
	}
}

func TestWriteAtomicMissingDir(t *testing.T) {
	_, err := writeAtomic(filepath.Join(t.TempDir(), "absent", "f"), []byte("x"), 0o644)
	if err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}
