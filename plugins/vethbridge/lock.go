package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockPath serializes the slow path of EnsureRules across concurrent
// plugin runs, so two first ADDs on a fresh node cannot both find a jump
// rule missing and add it twice. /run is tmpfs: the file is gone at reboot.
const lockPath = "/run/netsteer/rules.lock"

func lockRules() (unlock func(), err error) {
	if err := os.MkdirAll("/run/netsteer", 0o700); err != nil {
		return nil, fmt.Errorf("creating lock dir: %w", err)
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", lockPath, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", lockPath, err)
	}
	return func() { f.Close() }, nil // closing releases the flock
}
