package scenario

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/netsteer/netsteer/bench/internal/cniexec"
)

// StartupSamples are exec-to-exit times in ms of VERSION for each side and
// of /bin/true, the floor of fork+exec+wait on this machine.
type StartupSamples struct {
	Sides [2][]float64
	True  []float64
}

// Startup runs VersionExecs VERSION calls per side and /bin/true,
// interleaved.
func (e *Env) Startup(ctx context.Context) (StartupSamples, error) {
	var s StartupSamples
	host, err := e.NewNS("version-host")
	if err != nil {
		return s, err
	}
	defer e.Remove(host) // best effort: leftovers are caught by the leak check
	e.Progressf("startup: %d x VERSION per plugin and /bin/true", e.Cfg.VersionExecs)
	stdin := []byte(`{"cniVersion":"1.0.0","name":"nst-bench"}`)
	for range e.Cfg.VersionExecs {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		for i, side := range e.Sides() {
			out, err := side.Plugin.Exec(host, cniexec.Call{Command: "VERSION", Stdin: stdin})
			if err != nil {
				return s, err
			}
			if !strings.Contains(string(out.Stdout), "supportedVersions") {
				return s, fmt.Errorf("%s VERSION printed %q, want supportedVersions", side.Plugin.Label, out.Stdout)
			}
			s.Sides[i] = append(s.Sides[i], ms(out.Took))
		}
		took, err := host.Run(exec.Command("/bin/true"))
		if err != nil {
			return s, err
		}
		s.True = append(s.True, ms(took))
	}
	return s, nil
}
