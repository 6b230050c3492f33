package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netsteer/netsteer/pkg/cnierr"
	"github.com/netsteer/netsteer/pkg/netconf"
	"github.com/netsteer/netsteer/pkg/oplog"
	"github.com/netsteer/netsteer/pkg/rps"
)

// defaultBridge is the upstream bridge plugin's default, kept so a config
// switches plugins by changing "type" alone.
const defaultBridge = "cni0"

// Config is a validated vethbridge network config with defaults applied.
type Config struct {
	CNIVersion string
	Network    string

	Bridge           string
	IsGateway        bool
	IsDefaultGateway bool
	ForceAddress     bool
	IPMasq           bool
	// IPMasqBackend is "iptables", "nftables", or "" (auto).
	IPMasqBackend string
	MTU           int
	Hairpin       bool
	Promisc       bool
	VLAN          int
	// VLANTrunk is vlanTrunk's VLAN IDs, sorted and deduplicated; nil when
	// the key is absent. Present (even empty), it turns VLAN filtering on,
	// as upstream.
	VLANTrunk           []int
	PreserveDefaultVLAN bool
	// MacSpoofChk drops frames the pod sends with another source MAC.
	MacSpoofChk bool
	// DisableContainerInterface leaves the container veth down.
	DisableContainerInterface bool
	EnableDAD                 bool
	PortIsolation             bool
	MAC                       net.HardwareAddr

	IPAMType string
	DNS      types.DNS

	Sysctls    netconf.SysctlConf
	PodSysctls map[string]string

	// RPS is nil when the config leaves receive steering alone.
	RPS          *RPSConfig
	NoMasquerade []netip.Prefix

	PrevResult       *current.Result
	ValidAttachments []types.GCAttachment

	// Raw is the config as the runtime sent it, passed on to IPAM.
	Raw []byte
}

// RPSConfig is the "rps" key. "cpus" is resolved against the node's CPU
// count where it is used (ADD's rps step, CHECK), so a count that cannot
// be read never fails DEL, GC or STATUS.
type RPSConfig struct {
	// Spec is "cpus" as written; CPUs is Spec resolved when Load was given
	// the CPU count, else empty.
	Spec            string
	CPUs            rps.Mask
	FlowCount       int
	SockFlowEntries int
}

// fileConf mirrors the JSON.
type fileConf struct {
	types.NetConf
	Bridge           string `json:"bridge"`
	IsGateway        bool   `json:"isGateway"`
	IsDefaultGateway bool   `json:"isDefaultGateway"`
	ForceAddress     bool   `json:"forceAddress"`
	IPMasq           bool   `json:"ipMasq"`
	MTU              int    `json:"mtu"`
	HairpinMode      bool   `json:"hairpinMode"`
	PromiscMode      bool   `json:"promiscMode"`
	VLAN             int    `json:"vlan"`
	EnableDAD        bool   `json:"enabledad"`
	PortIsolation    bool   `json:"portIsolation"`

	IPMasqBackend             *string         `json:"ipMasqBackend"`
	VLANTrunk                 json.RawMessage `json:"vlanTrunk"`
	PreserveDefaultVLAN       bool            `json:"preserveDefaultVlan"`
	MacSpoofChk               bool            `json:"macspoofchk"`
	DisableContainerInterface bool            `json:"disableContainerInterface"`

	netconf.SysctlConf
	RPS               json.RawMessage `json:"rps"`
	NoMasqueradeCIDRs []string        `json:"noMasqueradeCIDRs"`

	Args          json.RawMessage `json:"args"`
	RuntimeConfig json.RawMessage `json:"runtimeConfig"`

	// DraftAttachments is the GC list under the spec draft's name, which
	// libcni sends beside cni.dev/valid-attachments.
	DraftAttachments []types.GCAttachment `json:"cni.dev/attachments"`
}

var pluginKeys = []string{
	"bridge", "isGateway", "isDefaultGateway", "forceAddress", "ipMasq", "mtu",
	"hairpinMode", "promiscMode", "vlan", "enabledad", "portIsolation",
	"ipMasqBackend", "vlanTrunk", "preserveDefaultVlan", "macspoofchk", "disableContainerInterface",
	"sysctl", "inheritSysctls", "allowedPodSysctls", "rps", "noMasqueradeCIDRs",
	oplog.Key, // read by the operations log (pkg/oplog), wired in main.go
}

type rpsConf struct {
	CPUs            string `json:"cpus"`
	FlowCount       int    `json:"flowCount"`
	SockFlowEntries int    `json:"sockFlowEntries"`
}

// podKeys are the keys of podArgs; any other is refused by name ("ipam"
// and "dns" belong to others).
var podKeys = []string{"mac", "ips", "sysctl"}

// podArgs is what a runtime may pass per pod, in args.cni or runtimeConfig.
type podArgs struct {
	MAC    string            `json:"mac"`
	IPs    []string          `json:"ips"`
	Sysctl map[string]string `json:"sysctl"`
}

// Load parses and validates a config. envArgs is CNI_ARGS; ncpu is the
// node's possible CPU count, for the RPS mask, or 0 when not known (the
// mask is then resolved where it is used). It touches nothing.
func Load(raw []byte, envArgs string, ncpu int) (*Config, error) {
	c, f, err := parse(raw)
	if err != nil {
		return nil, err
	}
	if err := rejectUnsupported(f); err != nil {
		return nil, err
	}
	return netconf.Validated(c,
		func() error { return netconf.ValidateIPAMSubnets(raw, nil, "") },
		func() error { return validateRange("mtu", c.MTU, 0, 65535, "0 (kernel default) or 68..65535") },
		func() error { return validateRange("vlan", c.VLAN, 0, 4094, "0..4094") },
		func() error { return c.loadVLANTrunk(f.VLANTrunk) },
		c.checkContainerInterface,
		func() error { return c.loadRPS(f.RPS, ncpu) },
		func() error { return c.loadNoMasq(f.NoMasqueradeCIDRs) },
		func() error { return c.loadPodArgs(f.Args, f.RuntimeConfig, envArgs) },
		func() error { return c.loadPrevResult(&f.NetConf) },
		func() error { return checkMinMTU(c.MTU) },
	)
}

// checkMinMTU refuses an MTU below IPv4's minimum; 0 is the kernel's
// default.
func checkMinMTU(mtu int) error {
	if mtu != 0 && mtu < 68 {
		return cnierr.InvalidConfig("mtu", mtu, "0 (kernel default) or 68..65535")
	}
	return nil
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
		CNIVersion: f.CNIVersion, Network: f.Name, Bridge: f.Bridge,
		IsGateway: f.IsGateway || f.IsDefaultGateway, IsDefaultGateway: f.IsDefaultGateway,
		ForceAddress: f.ForceAddress, IPMasq: f.IPMasq, MTU: f.MTU,
		Hairpin: f.HairpinMode, Promisc: f.PromiscMode, VLAN: f.VLAN,
		EnableDAD: f.EnableDAD, PortIsolation: f.PortIsolation,
		PreserveDefaultVLAN: f.PreserveDefaultVLAN, MacSpoofChk: f.MacSpoofChk,
		DisableContainerInterface: f.DisableContainerInterface,
		IPAMType:                  f.IPAM.Type, DNS: f.DNS, Sysctls: f.SysctlConf,
		ValidAttachments: f.ValidAttachments, Raw: raw,
	}
	if f.IPMasqBackend != nil {
		c.IPMasqBackend = *f.IPMasqBackend
	}
	if c.Bridge == "" {
		c.Bridge = defaultBridge
	}
	if c.ValidAttachments == nil {
		c.ValidAttachments = f.DraftAttachments
	}
	if err := netconf.ValidateRelease(c.Network, c.CNIVersion, supportedVersions, func() error { return netconf.ValidateLinkName("bridge", c.Bridge) }); err != nil {
		return nil, nil, err
	}
	return c, f, nil
}

// LoadRelease parses a config for DEL and GC, which validate only what
// they need to find and release an attachment: the network's name (in
// every derived name and alias), the bridge and the IPAM plugin's config,
// which goes to IPAM as it is. Everything else — sysctls and the per-pod
// allowlist, rps, per-pod args, limits, prevResult — is ADD's business: a
// config ADD accepted must still release after the operator narrowed the
// allowlist or the node rebooted onto fewer CPUs (issue 9, class 6).
// Only the fields DEL and GC use are meaningful in the result.
func LoadRelease(raw []byte) (*Config, error) {
	c, _, err := parse(raw)
	return c, err
}

func rejectUnsupported(f *fileConf) error {
	switch {
	case f.IPMasqBackend != nil && *f.IPMasqBackend != BackendIPTables && *f.IPMasqBackend != BackendNFTables:
		return cnierr.InvalidConfig("ipMasqBackend", *f.IPMasqBackend, `must be "iptables" or "nftables" (absent: iptables when usable, else nftables)`)
	}
	return nil
}

// supportedVersions are the config versions vethbridge accepts: upstream
// bridge's, but not 0.1.0, which is what skel makes of an empty
// cniVersion (refused, as in ipvlan).
var supportedVersions = []string{"0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

func validateRange(key string, v, lo, hi int, want string) error {
	if v < lo || v > hi {
		return cnierr.InvalidConfig(key, v, "must be "+want)
	}
	return nil
}

func (c *Config) loadRPS(raw json.RawMessage, ncpu int) error {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var r rpsConf
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return cnierr.InvalidConfig("rps", string(raw), err.Error())
	}
	rc := &RPSConfig{Spec: r.CPUs}
	// Without the node's count, the form is checked up to the most CPUs
	// any node can have.
	mask, err := rc.Mask(cmp.Or(max(ncpu, 0), rps.MaxCPUs))
	if err != nil {
		return err
	}
	if r.FlowCount < 0 || r.FlowCount > 1<<20 {
		return cnierr.InvalidConfig("rps.flowCount", r.FlowCount, "must be 0..1048576")
	}
	if r.SockFlowEntries < 0 || r.SockFlowEntries > 1<<26 {
		return cnierr.InvalidConfig("rps.sockFlowEntries", r.SockFlowEntries, "must be 0..67108864")
	}
	if ncpu > 0 {
		rc.CPUs = mask
	}
	rc.FlowCount, rc.SockFlowEntries = r.FlowCount, r.SockFlowEntries
	c.RPS = rc
	return nil
}

// Mask is "cpus" for a node with ncpu possible CPUs.
func (r *RPSConfig) Mask(ncpu int) (rps.Mask, error) {
	m, err := rps.Parse(r.Spec, ncpu)
	if err != nil {
		return m, cnierr.InvalidConfig("rps.cpus", r.Spec, err.Error())
	}
	return m, nil
}

func (c *Config) loadNoMasq(cidrs []string) error {
	cidrs = netconf.Dedupe(cidrs)
	if err := netconf.CheckCount("noMasqueradeCIDRs", len(cidrs), netconf.MaxNoMasqueradeCIDRs); err != nil {
		return err
	}
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return cnierr.InvalidConfig("noMasqueradeCIDRs", s, err.Error())
		}
		c.NoMasquerade = append(c.NoMasquerade, p.Masked())
	}
	return nil
}

// loadPodArgs applies the per-pod MAC and sysctls. Precedence follows the
// upstream bridge plugin: CNI_ARGS, then args.cni, then runtimeConfig.
func (c *Config) loadPodArgs(args, runtime json.RawMessage, envArgs string) error {
	env, err := netconf.ParseArgs(envArgs)
	if err != nil {
		return err
	}
	fromArgs, fromRuntime, err := netconf.PodArgs[podArgs](args, runtime, podKeys...)
	if err != nil {
		return err
	}
	if err := c.loadMAC(string(env.MAC), fromArgs.MAC, fromRuntime.MAC); err != nil {
		return err
	}
	c.PodSysctls = netconf.PodSysctls(fromArgs.Sysctl, fromRuntime.Sysctl)
	return c.Sysctls.Validate("IFNAME", c.PodSysctls)
}

// loadMAC sets the pod's MAC from the last of macs that is not empty, in
// increasing precedence.
func (c *Config) loadMAC(macs ...string) error {
	mac := ""
	for _, m := range macs {
		if m != "" {
			mac = m
		}
	}
	if mac == "" {
		return nil
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 || hw[0]&1 == 1 {
		return cnierr.InvalidConfig("mac", mac, "must be a unicast 48-bit MAC address")
	}
	c.MAC = hw
	return nil
}

func (c *Config) loadPrevResult(n *types.NetConf) (err error) {
	c.PrevResult, err = netconf.PrevResult(n)
	return err
}
