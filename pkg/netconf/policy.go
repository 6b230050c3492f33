package netconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netns"
)

// CheckVersion accepts a config's cniVersion when it is one of supported.
// An empty one is refused like any other unsupported version, in both
// plugins: the spec requires the key, and skel would read "" as 0.1.0,
// whose results have no interface list.
func CheckVersion(v string, supported []string) error {
	if v != "" && slices.Contains(supported, v) {
		return nil
	}
	return types.NewError(types.ErrIncompatibleCNIVersion,
		fmt.Sprintf("cniVersion %q is not supported (want one of %v)", v, supported), "")
}

// CheckEnv refuses a bad CNI_IFNAME for the verbs that use it (ADD, DEL,
// CHECK) before skel does: skel's message names neither the variable nor
// the value, so a runtime's log would not say what to fix. An absent one
// is left to skel, which names it. The plugins' main calls it first.
func CheckEnv(command, ifname string) *types.Error {
	if ifname == "" || command != "ADD" && command != "DEL" && command != "CHECK" {
		return nil
	}
	var te *types.Error
	if err := ValidateEnvIfName(ifname); errors.As(err, &te) {
		return te
	}
	return nil
}

// PrepareEnv is what both plugins' main does before skel: refuse a bad
// CNI_IFNAME by name (CheckEnv), bound the read of the config
// (boundStdin), and take CNI_NETNS checking over from skel
// (netns.TakeOverFromSkel).
func PrepareEnv() *types.Error {
	if err := CheckEnv(os.Getenv("CNI_COMMAND"), os.Getenv("CNI_IFNAME")); err != nil {
		return err
	}
	if err := boundStdin(os.Getenv("CNI_COMMAND")); err != nil {
		return err
	}
	if err := netns.TakeOverFromSkel(); err != nil {
		return types.NewError(types.ErrInternal, fmt.Sprintf("setting CNI_NETNS_OVERRIDE: %v", err), "")
	}
	return nil
}

// DecodeObject decodes the optional JSON object at key (absent or null
// leaves dst alone), refusing any key not in allowed with code 2 naming
// the first unknown key in sorted order, so the answer never depends on
// map order.
func DecodeObject(key string, raw json.RawMessage, dst any, allowed ...string) error {
	if IsNull(raw) {
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return cnierr.InvalidConfig(key, string(raw), err.Error())
	}
	var unknown []string
	for k := range top {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return cnierr.Unsupported(key+"."+unknown[0], string(top[unknown[0]]))
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return cnierr.InvalidConfig(key, string(raw), err.Error())
	}
	return nil
}

// IsNull reports whether raw is absent or JSON null.
func IsNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// IsEmptyDNS reports whether d sets nothing, so a config's "dns" does not
// replace IPAM's.
func IsEmptyDNS(d types.DNS) bool {
	return len(d.Nameservers) == 0 && d.Domain == "" && len(d.Search) == 0 && len(d.Options) == 0
}

// ValidateRelease checks what DEL and GC need of any config to find and
// release an attachment: the network's name, from which every derived
// name and alias is made, a supported cniVersion, and then the plugin's
// own link name (the bridge, the master) with link. Both plugins run it
// for every verb; ADD and CHECK validate the rest on top, DEL and GC
// nothing more (issue 9, class 6: what ADD accepted, DEL must release).
func ValidateRelease(network, cniVersion string, supported []string, link func() error) error {
	if err := ValidateName(network); err != nil {
		return err
	}
	if err := CheckVersion(cniVersion, supported); err != nil {
		return err
	}
	return link()
}

// PodArgs decodes what a runtime passes per pod, lowest precedence first:
// args.cni (other namespaces of args belong to other plugins) and then
// runtimeConfig, each into its own T, refusing any key outside keys by
// name (code 2). Both plugins follow the upstream plugins' precedence:
// CNI_ARGS, then args.cni, then runtimeConfig.
func PodArgs[T any](args, runtime json.RawMessage, keys ...string) (fromArgs, fromRuntime T, err error) {
	var namespaces struct {
		CNI json.RawMessage `json:"cni"`
	}
	if !IsNull(args) {
		if err := json.Unmarshal(args, &namespaces); err != nil {
			return fromArgs, fromRuntime, cnierr.InvalidConfig("args", string(args), err.Error())
		}
	}
	if err := DecodeObject("args.cni", namespaces.CNI, &fromArgs, keys...); err != nil {
		return fromArgs, fromRuntime, err
	}
	err = DecodeObject("runtimeConfig", runtime, &fromRuntime, keys...)
	return fromArgs, fromRuntime, err
}

// PodSysctls is the per-pod sysctls of args.cni and runtimeConfig, the
// latter winning for a key both name.
func PodSysctls(fromArgs, fromRuntime map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, fromArgs)
	maps.Copy(out, fromRuntime)
	return out
}
