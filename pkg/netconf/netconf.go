// Package netconf holds the config handling both netsteer plugins share:
// strict decoding (an unknown key is an error naming it, never ignored),
// CNI_ARGS, the container's sysctl settings with the per-pod allowlist,
// and the policy both plugins apply the same way (cniVersion, CNI_IFNAME).
// Every function here is pure, so the tables in the tests cover each key
// and each error without root. (CNI_NETNS is pkg/netns's.)
package netconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// CommonKeys are the keys the CNI spec and libcni put in every plugin config.
var commonKeys = []string{
	"cniVersion", "cniVersions", "name", "type", "capabilities", "ipam", "dns",
	"prevResult", "runtimeConfig", "args", "cni.dev/valid-attachments",
	// libcni also sends the GC list under the name of the spec's draft.
	"cni.dev/attachments",
}

// MaxConfigBytes bounds the config a plugin accepts; runtimes send a few
// KiB (a prevResult and a few hundred port mappings included). Checked
// before parsing, it keeps every later pass over the config short.
const MaxConfigBytes = 256 << 10

// Decode unmarshals raw into dst and rejects any top-level key that is
// neither a common CNI key nor in pluginKeys (code 2, naming the key).
// A malformed document or a value of the wrong type is code 7 naming the key.
func Decode(raw []byte, dst any, pluginKeys ...string) error {
	if len(raw) > MaxConfigBytes {
		return cnierr.InvalidConfig("(config)", fmt.Sprintf("%d bytes", len(raw)), fmt.Sprintf("larger than %d bytes", MaxConfigBytes))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return types.NewError(types.ErrDecodingFailure, fmt.Sprintf("decoding network config: %v", err), "")
	}
	known := map[string]bool{}
	for _, k := range append(commonKeys, pluginKeys...) {
		known[k] = true
	}
	var unknown []string
	for k := range top {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return cnierr.Unsupported(unknown[0], string(top[unknown[0]]))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return cnierr.InvalidConfig(te.Field, te.Value, fmt.Sprintf("wrong type, want %s", te.Type))
		}
		return types.NewError(types.ErrDecodingFailure, fmt.Sprintf("decoding network config: %v", err), "")
	}
	return nil
}

// ValidateName checks the network name against the form the CNI spec
// recommends, at most 64 bytes. Names go into interface aliases and rule
// comments, so nothing else is accepted.
func ValidateName(name string) error {
	if !isIdentifier(name, 64) {
		return cnierr.InvalidConfig("name", name, "must be 1-64 characters of [a-zA-Z0-9_.-], starting alphanumeric")
	}
	return nil
}

// isIdentifier reports whether s matches ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ and
// is at most max bytes. Written out rather than as a regexp: compiling one
// at init is a measurable share of a plugin's start-up.
func isIdentifier(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// ValidateIfName checks a kernel interface name given in config key: 1..15
// bytes, no '/', ':' or white space, not "." or "..", not starting with '-'.
func ValidateIfName(key, name string) error {
	if why := ifNameProblem(name); why != "" {
		return cnierr.InvalidConfig(key, name, why)
	}
	return nil
}

func ifNameProblem(name string) string {
	switch {
	case name == "":
		return "empty interface name"
	case len(name) > 15:
		return "interface names are at most 15 bytes"
	case name == "." || name == "..":
		return "not an interface name"
	case strings.HasPrefix(name, "-"):
		return "interface names must not start with '-'"
	case strings.ContainsAny(name, "/: \t\n\r\x00\"'\\"):
		return "interface names must not contain '/', ':', quotes, backslashes or white space"
	}
	return ""
}

// ValidateContainerID checks CNI_CONTAINERID the way the spec defines it.
func ValidateContainerID(id string) error {
	if !isIdentifier(id, 128) {
		return cnierr.InvalidEnv("CNI_CONTAINERID", id, "must be 1-128 characters of [a-zA-Z0-9_.-], starting alphanumeric")
	}
	return nil
}

// Args is what netsteer reads from CNI_ARGS; the Kubernetes keys are
// accepted so runtimes that omit IgnoreUnknown still work.
type Args struct {
	types.CommonArgs
	MAC                        types.UnmarshallableString
	K8S_POD_NAME               types.UnmarshallableString //nolint:revive // CNI_ARGS key
	K8S_POD_NAMESPACE          types.UnmarshallableString //nolint:revive
	K8S_POD_INFRA_CONTAINER_ID types.UnmarshallableString //nolint:revive
	K8S_POD_UID                types.UnmarshallableString //nolint:revive
}

// ParseArgs parses CNI_ARGS (code 4 naming the variable on error).
func ParseArgs(s string) (Args, error) {
	var a Args
	if s == "" {
		return a, nil
	}
	if len(s) > 4096 {
		return a, cnierr.InvalidEnv("CNI_ARGS", s[:64]+"…", "longer than 4096 bytes")
	}
	if err := types.LoadArgs(s, &a); err != nil {
		return a, cnierr.InvalidEnv("CNI_ARGS", s, err.Error())
	}
	return a, nil
}
