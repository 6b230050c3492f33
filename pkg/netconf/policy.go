package netconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
// name and alias is made, and a supported cniVersion. Both plugins run
// it for every verb; ADD and CHECK validate the rest on top, DEL and GC
// nothing more (issue 9, class 6: what ADD accepted, DEL must release).
func ValidateRelease(network, cniVersion string, supported []string) error {
	if err := ValidateName(network); err != nil {
		return err
	}
	return CheckVersion(cniVersion, supported)
}
