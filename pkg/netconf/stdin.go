package netconf

import (
	"fmt"
	"io"
	"os"

	"github.com/containernetworking/cni/pkg/types"
	"golang.org/x/sys/unix"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// ReadConfig reads a config from r, never more than MaxConfigBytes+1
// bytes: a larger one is code 7 naming the limit, whatever follows.
func ReadConfig(r io.Reader) ([]byte, *types.Error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxConfigBytes+1))
	if err != nil {
		return nil, types.NewError(types.ErrIOFailure, fmt.Sprintf("reading the config from stdin: %v", err), "")
	}
	if len(raw) > MaxConfigBytes {
		return nil, cnierr.InvalidConfig("(config)", fmt.Sprintf("more than %d bytes", MaxConfigBytes), fmt.Sprintf("larger than %d bytes", MaxConfigBytes))
	}
	return raw, nil
}

// boundStdin puts the config behind a bounded read before skel sees it.
// skel reads stdin whole and decodes it as JSON (for cniVersion) before
// it calls the plugin, so without this a config of any size costs its
// memory and a full parse before Decode's own size check (issue 9, class
// 8). The bounded copy goes into a memfd that replaces os.Stdin, the
// reader skel takes. VERSION is left alone: skel does not read its stdin.
func boundStdin(command string) *types.Error {
	if command == "" || command == "VERSION" {
		return nil
	}
	raw, terr := ReadConfig(os.Stdin)
	if terr != nil {
		return terr
	}
	fd, err := unix.MemfdCreate("netsteer-config", unix.MFD_CLOEXEC)
	if err != nil {
		return types.NewError(types.ErrIOFailure, fmt.Sprintf("holding the config: %v", err), "")
	}
	f := os.NewFile(uintptr(fd), "stdin")
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return types.NewError(types.ErrIOFailure, fmt.Sprintf("holding the config: %v", err), "")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return types.NewError(types.ErrIOFailure, fmt.Sprintf("holding the config: %v", err), "")
	}
	os.Stdin = f
	return nil
}
