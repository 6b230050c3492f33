package oplog

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Append writes line (which ends in '\n') to the log at c.File. When the
// line would take the file past c.MaxBytes, the file is first renamed to
// c.File+".1" (replacing the previous generation), so the log never holds
// more than about twice MaxBytes; if that rename fails the file is
// truncated instead. Concurrent plugin runs serialise on flock(2) of the
// file, and a writer that waited while another rotated reopens the new
// file.
//
// The path is operator config but the directory may be writable by
// others, so the file is opened without following a symlink anywhere in
// the path, must be a regular file with a single link (a hard link to
// another file would make rotation truncate that file) owned by the
// plugin's own uid, and is never created with more than 0640.
func Append(c Config, line []byte) error {
	for attempt := 0; attempt < 3; attempt++ {
		done, err := appendOnce(c, line)
		if err != nil || done {
			return err
		}
	}
	return fmt.Errorf("log file %s: rotated by others three times in a row", c.File)
}

// appendOnce writes the line and reports true, or reports false when the
// file it opened is no longer the one at c.File (rotated meanwhile, by us
// or by another run) and the caller should try again.
func appendOnce(c Config, line []byte) (done bool, err error) {
	fd, err := openLog(c.File)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return false, fmt.Errorf("locking log file %s: %w", c.File, err)
	}
	var st, cur unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, fmt.Errorf("log file %s: %w", c.File, err)
	}
	if err := unix.Lstat(c.File, &cur); err != nil || cur.Dev != st.Dev || cur.Ino != st.Ino {
		return false, nil
	}
	if st.Size > 0 && st.Size+int64(len(line)) > c.MaxBytes {
		if err := os.Rename(c.File, c.File+".1"); err == nil {
			return false, nil
		}
		// The old generation's name is taken by something rename cannot
		// replace (a directory): keep the cap by starting over in place.
		if err := unix.Ftruncate(fd, 0); err != nil {
			return false, fmt.Errorf("truncating log file %s: %w", c.File, err)
		}
	}
	if _, err := unix.Write(fd, line); err != nil {
		return false, fmt.Errorf("writing log file %s: %w", c.File, err)
	}
	return true, nil
}

// openLog opens path for appending, creating it when missing. No symlink
// is followed in any component (openat2 RESOLVE_NO_SYMLINKS; on kernels
// before 5.6 only the last component is protected, by O_NOFOLLOW).
// O_NONBLOCK keeps a FIFO planted at the path from blocking the plugin.
func openLog(path string) (int, error) {
	flags := unix.O_WRONLY | unix.O_APPEND | unix.O_CREAT | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags: uint64(flags), Mode: 0o640, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) {
		fd, err = unix.Open(path, flags, 0o640)
	}
	if err != nil {
		return -1, fmt.Errorf("opening log file %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("log file %s: %w", path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		unix.Close(fd)
		return -1, fmt.Errorf("log file %s is not a regular file", path)
	case st.Nlink != 1:
		unix.Close(fd)
		return -1, fmt.Errorf("log file %s has %d hard links; refusing to write to a file linked elsewhere", path, st.Nlink)
	case int(st.Uid) != os.Geteuid():
		// Someone else made it (in a directory others can write): what
		// we append would be theirs to read and to grow.
		unix.Close(fd)
		return -1, fmt.Errorf("log file %s is owned by uid %d, not by the plugin's uid %d", path, st.Uid, os.Geteuid())
	}
	return fd, nil
}
