package main

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/oplog"
)

// supportedVersions are the config versions ipvlan accepts. 0.1.0 and
// 0.2.0 results cannot carry an interface list, so they are left out.
var supportedVersions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

// Mode is the ipvlan mode: where the kernel demultiplexes to the slaves.
type Mode string

// The modes upstream ipvlan accepts, with the same spelling.
const (
	ModeL2  Mode = "l2"
	ModeL3  Mode = "l3"
	ModeL3S Mode = "l3s"
)

// Flag is the ipvlan flag: how slaves of one master may talk to each other.
type Flag string

// The flags `ip link add … type ipvlan mode M FLAG` accepts.
const (
	FlagBridge  Flag = "bridge"
	FlagPrivate Flag = "private"
	FlagVEPA    Flag = "vepa"
)

// Config is a validated ipvlan network config with defaults applied.
type Config struct {
	CNIVersion string
	Network    string

	// Master is empty when the config names none: ADD then takes the only
	// interface of prevResult, or the interface of the default route.
	Master          string
	Mode            Mode
	Flag            Flag
	MTU             int
	LinkInContainer bool

	IPAMType string
	DNS      types.DNS

	Sysctls    netconf.SysctlConf
	PodSysctls map[string]string

	PrevResult       *current.Result
	ValidAttachments []types.GCAttachment

	// Raw is the config as the runtime sent it, passed on to IPAM.
	Raw []byte
}

// fileConf mirrors the JSON.
type fileConf struct {
	types.NetConf
	Master          string `json:"master"`
	Mode            string `json:"mode"`
	Flag            string `json:"flag"`
	MTU             int    `json:"mtu"`
	LinkInContainer bool   `json:"linkInContainer"`

	netconf.SysctlConf

	Args          json.RawMessage `json:"args"`
	RuntimeConfig json.RawMessage `json:"runtimeConfig"`
}

var pluginKeys = []string{
	"master", "mode", "flag", "mtu", "linkInContainer",
	"sysctl", "inheritSysctls", "allowedPodSysctls",
	oplog.Key, // read by the operations log (pkg/oplog), wired in main.go
}

// podKeys are what a runtime may pass per pod in args.cni or runtimeConfig:
// "ips" is for IPAM (host-local reads it from the config we pass on) and
// "sysctl" is ours. A per-pod "mac" cannot be honoured, since every ipvlan
// slave has its master's MAC, so it is rejected by name like any other key.
var podKeys = []string{"ips", "sysctl"}

// Load parses and validates a config; envArgs is CNI_ARGS. It touches
// nothing: checks that need the kernel (the master's MTU) run in ADD.
func Load(raw []byte, envArgs string) (*Config, error) {
	c, f, err := parse(raw)
	if err != nil {
		return nil, err
	}
	return netconf.Validated(c,
		func() error { return netconf.ValidateIPAMSubnets(raw, nil, "") },
		func() error { return oneOf("mode", c.Mode, ModeL2, ModeL3, ModeL3S) },
		func() error { return oneOf("flag", c.Flag, FlagBridge, FlagPrivate, FlagVEPA) },
		c.checkMTU,
		func() error { return c.loadPodArgs(f.Args, f.RuntimeConfig, envArgs) },
		func() error { return c.loadPrevResult(&f.NetConf) },
	)
}

// LoadRelease parses a config for DEL and GC, which validate only what
// they need to find and release an attachment: the network's name (in
// the link's alias and temporary name) and the master's, and the IPAM
// plugin's config, which goes to IPAM as it is. Sysctls, the per-pod
// allowlist, per-pod args, mode, flag, mtu and prevResult are ADD's
// business: a config ADD accepted must still release (issue 9, class 6).
// Only the fields DEL and GC use are meaningful in the result.
func LoadRelease(raw []byte) (*Config, error) {
	c, _, err := parse(raw)
	return c, err
}

// parse decodes raw (known keys, right types) into the config as written,
// with the defaults applied, and the file it came from, after checking
// what every verb needs (netconf.ValidateRelease); nothing else is
// validated yet.
func parse(raw []byte) (*Config, *fileConf, error) {
	f := &fileConf{}
	if err := netconf.Decode(raw, f, pluginKeys...); err != nil {
		return nil, nil, err
	}
	c := &Config{
		CNIVersion: f.CNIVersion, Network: f.Name, Master: f.Master,
		Mode: Mode(f.Mode), Flag: Flag(f.Flag), MTU: f.MTU, LinkInContainer: f.LinkInContainer,
		IPAMType: f.IPAM.Type, DNS: f.DNS, Sysctls: f.SysctlConf,
		ValidAttachments: f.ValidAttachments, Raw: raw,
	}
	if c.Mode == "" {
		c.Mode = ModeL2
	}
	if c.Flag == "" {
		c.Flag = FlagBridge
	}
	if err := netconf.ValidateRelease(c.Network, c.CNIVersion, supportedVersions, c.checkMaster); err != nil {
		return nil, nil, err
	}
	return c, f, nil
}

func (c *Config) checkMaster() error {
	if c.Master == "" {
		return nil
	}
	return netconf.ValidateLinkName("master", c.Master)
}

func oneOf[T ~string](key string, v T, allowed ...T) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return cnierr.InvalidConfig(key, v, fmt.Sprintf("must be one of %v", allowed))
}

// checkMTU checks the range only; the upper bound is the master's MTU,
// which ADD reads from the kernel.
func (c *Config) checkMTU() error {
	if c.MTU != 0 && (c.MTU < 68 || c.MTU > 65535) {
		return cnierr.InvalidConfig("mtu", c.MTU, "must be 0 (the master's MTU) or 68..65535")
	}
	return nil
}

// loadPodArgs reads the per-pod sysctls from args.cni and runtimeConfig
// (the later wins, as in upstream plugins) and checks them against the
// allowlist. CNI_ARGS is parsed only to reject a malformed one.
func (c *Config) loadPodArgs(args, runtime json.RawMessage, envArgs string) error {
	if _, err := netconf.ParseArgs(envArgs); err != nil {
		return err
	}
	type pod struct {
		Sysctl map[string]string `json:"sysctl"`
	}
	fromArgs, fromRuntime, err := netconf.PodArgs[pod](args, runtime, podKeys...)
	if err != nil {
		return err
	}
	c.PodSysctls = netconf.PodSysctls(fromArgs.Sysctl, fromRuntime.Sysctl)
	return c.Sysctls.Validate("IFNAME", c.PodSysctls)
}

func (c *Config) loadPrevResult(n *types.NetConf) (err error) {
	c.PrevResult, err = netconf.PrevResult(n)
	return err
}

// chainedMaster is upstream's rule for a config without "master" that
// runs after another plugin: the master is prevResult's only interface.
// It is "" when there is no prevResult.
func (c *Config) chainedMaster() (string, error) {
	if c.PrevResult == nil {
		return "", nil
	}
	ifs := c.PrevResult.Interfaces
	if len(ifs) != 1 || ifs[0].Name == "" {
		return "", cnierr.InvalidConfig("master", "",
			fmt.Sprintf("no master given and prevResult has %d interfaces; a chained ipvlan takes the master from a prevResult with exactly one named interface", len(ifs)))
	}
	return ifs[0].Name, nil
}
