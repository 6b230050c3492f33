package netconf

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// endless is a reader that never ends, counting what was read from it.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += len(p)
	return len(p), nil
}

// TestReadConfigBoundsTheRead: a config of exactly MaxConfigBytes is read
// whole; one byte more, or an endless stream, is code 7 naming the limit
// after at most MaxConfigBytes+1 bytes (plus one read buffer) were read.
func TestReadConfigBoundsTheRead(t *testing.T) {
	raw, err := ReadConfig(bytes.NewReader(bytes.Repeat([]byte{' '}, MaxConfigBytes)))
	if err != nil || len(raw) != MaxConfigBytes {
		t.Errorf("ReadConfig of %d bytes = %d bytes, %v", MaxConfigBytes, len(raw), err)
	}
	for _, r := range []io.Reader{bytes.NewReader(bytes.Repeat([]byte{' '}, MaxConfigBytes+1)), &endless{}} {
		_, err := ReadConfig(r)
		if err == nil || err.Code != 7 || !strings.Contains(err.Error(), "262144") {
			t.Errorf("ReadConfig past the limit = %v, want code 7 naming the limit", err)
		}
		if e, ok := r.(*endless); ok && e.n > 2*MaxConfigBytes {
			t.Errorf("ReadConfig read %d bytes of an endless stream", e.n)
		}
	}
}
