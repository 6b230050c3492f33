package cniexec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"time"

	"github.com/netsteer/netsteer/bench/internal/netns"
)

// Plugin is one CNI plugin binary.
type Plugin struct {
	Label   string // how tables name it, e.g. "vethbridge"
	Path    string // the binary
	CNIPath string // directory list searched for the IPAM plugin
}

// Call is one invocation of a plugin.
type Call struct {
	Command     string // ADD, DEL, CHECK, VERSION
	ContainerID string
	NetNS       string // CNI_NETNS, a path
	IfName      string
	Args        string // CNI_ARGS
	Stdin       []byte
}

// Outcome is what one invocation produced.
type Outcome struct {
	Took   time.Duration // fork to reap
	Stdout []byte
	IPs    []netip.Prefix // for a successful ADD
}

// Exec runs the plugin inside host, the namespace that plays the node's
// network. It returns the outcome even on failure, so callers can time and
// log failed calls.
func (p Plugin) Exec(host netns.NS, c Call) (Outcome, error) {
	cmd := exec.Command(p.Path)
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"CNI_COMMAND=" + c.Command,
		"CNI_CONTAINERID=" + c.ContainerID,
		"CNI_NETNS=" + c.NetNS,
		"CNI_IFNAME=" + c.IfName,
		"CNI_ARGS=" + c.Args,
		"CNI_PATH=" + p.CNIPath,
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(c.Stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	took, err := host.Run(cmd)
	out := Outcome{Took: took, Stdout: stdout.Bytes()}
	if err != nil {
		return out, p.callError(c, err, stdout.Bytes(), stderr.String())
	}
	if c.Command == "ADD" {
		out.IPs, err = ResultIPs(out.Stdout)
		if err != nil {
			return out, fmt.Errorf("%s %s of %s: %w", p.Label, c.Command, c.ContainerID, err)
		}
		if len(out.IPs) == 0 {
			return out, fmt.Errorf("%s %s of %s: result has no IP address: %s", p.Label, c.Command, c.ContainerID, out.Stdout)
		}
	}
	return out, nil
}

func (p Plugin) callError(c Call, err error, stdout []byte, stderr string) error {
	if perr := ParseError(stdout); perr != nil {
		err = errors.Join(err, perr)
	}
	if s := strings.TrimSpace(stderr); s != "" {
		err = fmt.Errorf("%w (stderr: %s)", err, s)
	}
	return fmt.Errorf("%s %s of %s: %w", p.Label, c.Command, c.ContainerID, err)
}

// PrevResult returns an ADD's stdout as the prevResult for a later DEL.
func PrevResult(add Outcome) json.RawMessage {
	return json.RawMessage(add.Stdout)
}
