package vm

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// File type bits of a cpio mode field, as in <sys/stat.h>.
const (
	cpioTypeDir     = 0o040000
	cpioTypeRegular = 0o100000
	cpioTypeSymlink = 0o120000
	cpioTypeCharDev = 0o020000
)

// cpioTrailer names the entry that ends a cpio archive.
const cpioTrailer = "TRAILER!!!"

// CPIOWriter writes a cpio archive in the "newc" format (magic 070701), the
// only format the kernel unpacks as an initramfs. Entries are written in the
// order given, so a directory must come before what it contains. Names are
// stored without a leading slash, relative to the guest's root.
type CPIOWriter struct {
	w   io.Writer
	ino uint32
	off int64
}

// NewCPIOWriter returns a writer that appends entries to w.
func NewCPIOWriter(w io.Writer) *CPIOWriter {
	return &CPIOWriter{w: w}
}

// cpioHeader holds the fields of one newc header that differ between entries.
type cpioHeader struct {
	name      string
	mode      uint32
	size      int64
	rdevMajor uint32
	rdevMinor uint32
	nlink     uint32
	trailer   bool
}

// Dir writes a directory entry.
func (c *CPIOWriter) Dir(name string, perm fs.FileMode) error {
	return c.header(cpioHeader{name: name, mode: cpioTypeDir | uint32(perm.Perm()), nlink: 2})
}

// File writes a regular file of size bytes read from r.
func (c *CPIOWriter) File(name string, perm fs.FileMode, size int64, r io.Reader) error {
	h := cpioHeader{name: name, mode: cpioTypeRegular | uint32(perm.Perm()), size: size, nlink: 1}
	if err := c.header(h); err != nil {
		return err
	}
	n, err := io.Copy(c.w, io.LimitReader(r, size))
	c.off += n
	if err != nil {
		return fmt.Errorf("writing cpio data of %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("writing cpio data of %s: got %d bytes, header says %d", name, n, size)
	}
	return c.pad()
}

// Symlink writes a symbolic link; the target is the link's data.
func (c *CPIOWriter) Symlink(name, target string) error {
	h := cpioHeader{name: name, mode: cpioTypeSymlink | 0o777, size: int64(len(target)), nlink: 1}
	if err := c.header(h); err != nil {
		return err
	}
	if err := c.write([]byte(target)); err != nil {
		return fmt.Errorf("writing cpio symlink %s: %w", name, err)
	}
	return c.pad()
}

// CharDev writes a character device node, such as dev/console (5, 1), which
// the kernel opens for /init before any devtmpfs exists.
func (c *CPIOWriter) CharDev(name string, perm fs.FileMode, major, minor uint32) error {
	h := cpioHeader{name: name, mode: cpioTypeCharDev | uint32(perm.Perm()), rdevMajor: major, rdevMinor: minor, nlink: 1}
	return c.header(h)
}

// Close writes the trailer entry. It does not close the underlying writer.
func (c *CPIOWriter) Close() error {
	return c.header(cpioHeader{name: cpioTrailer, nlink: 1, trailer: true})
}

func (c *CPIOWriter) header(h cpioHeader) error {
	name := strings.TrimPrefix(h.name, "/")
	if name == "" {
		return fmt.Errorf("writing cpio header: empty name for %q", h.name)
	}
	ino := uint32(0)
	if !h.trailer {
		// Distinct inode numbers keep the kernel from treating entries with
		// nlink > 1 as hard links of each other.
		c.ino++
		ino = c.ino
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, h.mode, 0, 0, h.nlink, 0, h.size, 0, 0, h.rdevMajor, h.rdevMinor, len(name)+1, 0)
	if err := c.write([]byte(hdr + name + "\x00")); err != nil {
		return fmt.Errorf("writing cpio header of %s: %w", name, err)
	}
	return c.pad()
}

func (c *CPIOWriter) write(p []byte) error {
	n, err := c.w.Write(p)
	c.off += int64(n)
	return err
}

// pad aligns the stream to 4 bytes, as newc requires after names and data.
func (c *CPIOWriter) pad() error {
	n := (4 - c.off%4) % 4
	if err := c.write(make([]byte, n)); err != nil {
		return fmt.Errorf("padding cpio archive: %w", err)
	}
	return nil
}
