package netconf

import (
	"encoding/json"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// ValidateAttachment checks CNI_CONTAINERID and CNI_IFNAME (code 4,
// naming the variable and its value).
func ValidateAttachment(containerID, ifname string) error {
	if err := ValidateContainerID(containerID); err != nil {
		return err
	}
	return ValidateEnvIfName(ifname)
}

// ValidateEnvIfName checks CNI_IFNAME (code 4, naming it and its value).
func ValidateEnvIfName(ifname string) error {
	if why := ifNameProblem(ifname); why != "" {
		return cnierr.InvalidEnv("CNI_IFNAME", ifname, why)
	}
	return nil
}

// PrevResult reads a config's prevResult, or nil when it has none, in
// the version the result declares rather than the config's: a runtime may
// hand a result cached by an older version (0.4.0) to a 1.1.0 DEL or
// CHECK, and DEL must not fail over a result it does not even need.
// (version.ParsePrevResult would parse it as the config's version.)
func PrevResult(n *types.NetConf) (*current.Result, error) {
	if n.RawPrevResult == nil {
		return nil, nil
	}
	raw, err := json.Marshal(n.RawPrevResult)
	if err != nil {
		return nil, cnierr.InvalidConfig("prevResult", "(object)", err.Error())
	}
	v := n.CNIVersion
	if declared, ok := n.RawPrevResult["cniVersion"].(string); ok && declared != "" {
		v = declared
	}
	prev, err := version.NewResult(v, raw)
	if err != nil {
		return nil, cnierr.InvalidConfig("prevResult", "(object)", err.Error())
	}
	res, err := current.NewResultFromResult(prev)
	if err != nil {
		return nil, cnierr.InvalidConfig("prevResult", "(object)", err.Error())
	}
	return res, nil
}
