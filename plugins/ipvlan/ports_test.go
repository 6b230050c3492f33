package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPortRecordNeverFollowsALink: a symlink planted at the record's temp
// name is not followed (the write fails and the file it points at keeps
// its content); a record that does not parse reads as empty rather than
// wedging the master.
func TestPortRecordNeverFollowsALink(t *testing.T) {
	b := portBook{Dir: t.TempDir()}
	l, err := b.lock(7)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, l.data+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := l.write(portRecord{Master: "nstm0", Attachments: []portEntry{{Network: "n", ContainerID: "c1", IfName: "eth0"}}}); err == nil {
		t.Error("write through a planted symlink succeeded")
	}
	if got, _ := os.ReadFile(outside); string(got) != "keep" {
		t.Errorf("the file the link points at now holds %q", got)
	}
	if err := os.WriteFile(l.data, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := l.read(); err != nil || len(r.Attachments) != 0 {
		t.Errorf("unparsable record = %+v, %v; want empty", r, err)
	}
}
