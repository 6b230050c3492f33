// Package buildinfo owns what a netsteer binary says about its own build:
// the version and the commit it was built from. Both are set by the build
// (`make build`, `make dist`) with
//
//	-ldflags "-X github.com/netsteer/netsteer/pkg/buildinfo.version=$(git describe --tags --always --dirty)
//	          -X github.com/netsteer/netsteer/pkg/buildinfo.commit=$(git rev-parse HEAD)"
//
// and never edited by hand. A binary built without them (plain `go build`,
// `go install`) falls back to the module version Go recorded, or "unknown".
package buildinfo

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version and commit are written by the linker (-X) and only read here.
// They are the one kind of package-level variable netsteer has: the
// linker can set nothing else.
var (
	version string
	commit  string
)

// Unknown is what Version and Commit report when the build recorded nothing.
const Unknown = "unknown"

// Info is one binary's build identity.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// Get returns the build identity, falling back to Go's build info for a
// binary built without the linker flags.
func Get() Info {
	return resolve(version, commit, debug.ReadBuildInfo)
}

// resolve picks linker-set values first, then Go's build info, then Unknown.
func resolve(v, c string, read func() (*debug.BuildInfo, bool)) Info {
	info := Info{Version: v, Commit: c}
	if bi, ok := read(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = Unknown
	}
	if info.Commit == "" {
		info.Commit = Unknown
	}
	return info
}

// String is "version V, commit C".
func (i Info) String() string {
	return fmt.Sprintf("version %s, commit %s", i.Version, i.Commit)
}

// About is the line a binary prints for --version and, for the plugins,
// as skel's about string when run without CNI_COMMAND. name is the
// binary's identity ("netsteer vethbridge"); the install script looks for
// it in the binary, so callers pass it as a literal.
func About(name string) string {
	return name + " " + Get().String()
}

// PrintIfAsked prints About(name) to w and reports true when args (the
// command line after the program name) is exactly "--version" or
// "-version". A CNI runtime passes no arguments, so the plugins call this
// first without changing what a runtime sees.
func PrintIfAsked(name string, args []string, w io.Writer) bool {
	if len(args) != 1 || args[0] != "--version" && args[0] != "-version" {
		return false
	}
	fmt.Fprintln(w, About(name))
	return true
}
