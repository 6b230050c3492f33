package vm

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// readCPIO parses a newc archive into one text line per entry, so tests can
// compare archives as readable text.
func readCPIO(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for off := 0; ; {
		if len(b)-off < 110 {
			t.Fatalf("archive truncated at %d", off)
		}
		h := string(b[off : off+110])
		if !strings.HasPrefix(h, "070701") {
			t.Fatalf("bad magic %q at %d", h[:6], off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(h[6+8*i:14+8*i], 16, 32)
			if err != nil {
				t.Fatalf("field %d of header at %d: %v", i, off, err)
			}
			return int(v)
		}
		mode, size, rmaj, rmin, namesize := field(1), field(6), field(9), field(10), field(11)
		nameStart := off + 110
		name := string(b[nameStart : nameStart+namesize-1])
		if b[nameStart+namesize-1] != 0 {
			t.Fatalf("name %q not NUL-terminated", name)
		}
		dataStart := align4(nameStart + namesize)
		data := string(b[dataStart : dataStart+size])
		off = align4(dataStart + size)
		if name == cpioTrailer {
			if off != len(b) {
				t.Fatalf("trailer ends at %d, archive at %d", off, len(b))
			}
			return out
		}
		out = append(out, fmt.Sprintf("%s mode=%o rdev=%d,%d data=%q", name, mode, rmaj, rmin, data))
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

func TestCPIOWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewCPIOWriter(&buf)
	steps := []error{
		w.Dir("/dev", 0o755),
		w.CharDev("/dev/console", 0o600, 5, 1),
		w.File("init", 0o755, 5, strings.NewReader("hello and more")),
		w.File("/empty", 0o644, 0, strings.NewReader("")),
		w.Symlink("/lib", "usr/lib"),
		w.File("/etc/three", 0o600, 3, strings.NewReader("abc")),
		w.Close(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d not a multiple of 4", buf.Len())
	}
	want := []string{
		`dev mode=40755 rdev=0,0 data=""`,
		`dev/console mode=20600 rdev=5,1 data=""`,
		`init mode=100755 rdev=0,0 data="hello"`,
		`empty mode=100644 rdev=0,0 data=""`,
		`lib mode=120777 rdev=0,0 data="usr/lib"`,
		`etc/three mode=100600 rdev=0,0 data="abc"`,
	}
	got := readCPIO(t, buf.Bytes())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCPIOWriterHeaderBytes(t *testing.T) {
	var buf bytes.Buffer
	w := NewCPIOWriter(&buf)
	if err := w.File("/a", 0o644, 2, strings.NewReader("hi")); err != nil {
		t.Fatal(err)
	}
	// 110-byte header, "a\0" (112, aligned), "hi" padded to 116.
	want := "070701" + "00000001" + "000081A4" + "00000000" + "00000000" + "00000001" +
		"00000000" + "00000002" + "00000000" + "00000000" + "00000000" + "00000000" +
		"00000002" + "00000000" + "a\x00" + "hi\x00\x00"
	if got := buf.String(); got != want {
		t.Errorf("bytes:\n%q\nwant:\n%q", got, want)
	}
}

func TestCPIOWriterErrors(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *CPIOWriter) error
		want  string
	}{
		{"short data", func(w *CPIOWriter) error { return w.File("f", 0o644, 10, strings.NewReader("abc")) }, "got 3 bytes, header says 10"},
		{"empty name", func(w *CPIOWriter) error { return w.Dir("/", 0o755) }, "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.write(NewCPIOWriter(&bytes.Buffer{}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
