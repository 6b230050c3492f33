// Package delegate runs a delegated plugin (IPAM) the way the CNI spec
// prescribes: the binary found in CNI_PATH, the caller's CNI_* environment
// with CNI_COMMAND set, the network config on stdin, a result or a CNI
// error on stdout. It is a few lines of os/exec; the CNI library's invoke
// package does the same but pulls tracing and HTTP packages into the
// plugin's start-up, which every pod pays for.
package delegate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/types/create"
)

// Plugins runs delegated plugins found in Path.
type Plugins struct {
	// Path is CNI_PATH: directories searched in order.
	Path []string
	// Env is the environment passed on, CNI_COMMAND excepted.
	Env []string
}

// FromEnv is Plugins with the process's CNI_PATH and environment.
func FromEnv() Plugins {
	return Plugins{Path: filepath.SplitList(os.Getenv("CNI_PATH")), Env: os.Environ()}
}

// Find returns the path of plugin name in Path.
func (p Plugins) Find(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return "", fmt.Errorf("invalid plugin name %q", name)
	}
	for _, dir := range p.Path {
		if dir == "" {
			continue
		}
		full := filepath.Join(dir, name)
		if st, err := os.Stat(full); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return full, nil
		}
	}
	return "", fmt.Errorf("plugin %q not found in CNI_PATH %q", name, strings.Join(p.Path, ":"))
}

// Identity names the binary of plugin name as found in Path: its path,
// size and modification time. It changes when the binary is replaced or
// another one comes first in CNI_PATH.
func (p Plugins) Identity(name string) (string, error) {
	path, err := p.Find(name)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %d", path, st.Size(), st.ModTime().UnixNano()), nil
}

// Run executes CNI command cmd of plugin name with conf on stdin and
// returns its stdout. A failure returns the plugin's *types.Error when it
// printed one, else an error carrying its stderr.
func (p Plugins) Run(cmd, name string, conf []byte) ([]byte, error) {
	path, err := p.Find(name)
	if err != nil {
		return nil, err
	}
	c := exec.Command(path)
	c.Env = append(withoutCommand(p.Env), "CNI_COMMAND="+cmd)
	c.Stdin = bytes.NewReader(conf)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		var te types.Error
		if json.Unmarshal(stdout.Bytes(), &te) == nil && te.Msg != "" {
			return nil, &te
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("%s %s: %w: %s", name, cmd, err, strings.TrimSpace(stderr.String()))
		}
		return nil, fmt.Errorf("running %s: %w", path, err)
	}
	return stdout.Bytes(), nil
}

// Add runs ADD and converts the result to the current spec version.
func (p Plugins) Add(name string, conf []byte) (*current.Result, error) {
	out, err := p.Run("ADD", name, conf)
	if err != nil {
		return nil, err
	}
	res, err := create.CreateFromBytes(out)
	if err != nil {
		return nil, fmt.Errorf("decoding %s result: %w", name, err)
	}
	return current.NewResultFromResult(res)
}

// Del, Check, GC and Status run the command and return its error.
func (p Plugins) Del(name string, conf []byte) error    { return p.discard("DEL", name, conf) }
func (p Plugins) Check(name string, conf []byte) error  { return p.discard("CHECK", name, conf) }
func (p Plugins) GC(name string, conf []byte) error     { return p.discard("GC", name, conf) }
func (p Plugins) Status(name string, conf []byte) error { return p.discard("STATUS", name, conf) }

func (p Plugins) discard(cmd, name string, conf []byte) error {
	_, err := p.Run(cmd, name, conf)
	return err
}

func withoutCommand(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if !strings.HasPrefix(e, "CNI_COMMAND=") {
			out = append(out, e)
		}
	}
	return out
}
