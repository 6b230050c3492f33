package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// trunkEntry is one element of vlanTrunk: a single "id", or a range from
// "minID" to "maxID" (both inclusive), or both in one entry, as upstream.
type trunkEntry struct {
	ID    *int `json:"id"`
	MinID *int `json:"minID"`
	MaxID *int `json:"maxID"`
}

// loadVLANTrunk parses vlanTrunk with upstream bridge's rules: IDs are
// 1..4094, a range needs both ends and minID <= maxID. Beyond upstream, an
// entry with neither form and unknown keys are refused (upstream ignores
// them), and the trunk may not carry the access vlan (upstream would drop
// its PVID flag, leaving the pod's untagged frames in no VLAN).
func (c *Config) loadVLANTrunk(raw json.RawMessage) error {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var entries []trunkEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return cnierr.InvalidConfig("vlanTrunk", string(raw), err.Error())
	}
	seen := map[int]bool{}
	for i, e := range entries {
		key := fmt.Sprintf("vlanTrunk[%d]", i)
		ids, err := e.ids(key)
		if err != nil {
			return err
		}
		for _, id := range ids {
			seen[id] = true
		}
	}
	if c.VLAN != 0 && seen[c.VLAN] {
		return cnierr.InvalidConfig("vlanTrunk", c.VLAN, "the access vlan cannot also be a trunk VLAN")
	}
	c.VLANTrunk = []int{}
	for id := range seen {
		c.VLANTrunk = append(c.VLANTrunk, id)
	}
	slices.Sort(c.VLANTrunk)
	return nil
}

func (e trunkEntry) ids(key string) ([]int, error) {
	out, err := e.rangeIDs(key)
	if err != nil {
		return nil, err
	}
	if e.ID != nil {
		if err := validVLAN(key+".id", *e.ID); err != nil {
			return nil, err
		}
		out = append(out, *e.ID)
	}
	if len(out) == 0 {
		return nil, cnierr.InvalidConfig(key, "{}", `needs "id" or "minID" and "maxID"`)
	}
	return out, nil
}

// rangeIDs is minID..maxID, or nothing when neither is given; one without
// the other is refused.
func (e trunkEntry) rangeIDs(key string) ([]int, error) {
	switch {
	case e.MinID == nil && e.MaxID == nil:
		return nil, nil
	case e.MaxID == nil:
		return nil, cnierr.InvalidConfig(key+".minID", *e.MinID, "maxID is missing; a range needs both")
	case e.MinID == nil:
		return nil, cnierr.InvalidConfig(key+".maxID", *e.MaxID, "minID is missing; a range needs both")
	}
	if err := cmp.Or(validVLAN(key+".minID", *e.MinID), validVLAN(key+".maxID", *e.MaxID)); err != nil {
		return nil, err
	}
	if *e.MinID > *e.MaxID {
		return nil, cnierr.InvalidConfig(key+".minID", *e.MinID, fmt.Sprintf("greater than maxID %d", *e.MaxID))
	}
	var out []int
	for v := *e.MinID; v <= *e.MaxID; v++ {
		out = append(out, v)
	}
	return out, nil
}

// validVLAN refuses a VLAN ID outside 1..4094, naming key.
func validVLAN(key string, v int) error {
	if v < 1 || v > 4094 {
		return cnierr.InvalidConfig(key, v, "must be 1..4094")
	}
	return nil
}

// vlanFiltering reports whether the bridge needs VLAN filtering: as
// upstream, when vlan is set or vlanTrunk is present.
func (c *Config) vlanFiltering() bool { return c.VLAN != 0 || c.VLANTrunk != nil }

// PortVLAN is one VLAN range of a bridge port. Equivalent to:
// bridge vlan add dev $port vid $Min-$Max [pvid] [untagged] master
type PortVLAN struct {
	Min, Max       int
	PVID, Untagged bool
}

// PortVLANs is what a host veth's VLAN table becomes, as upstream bridge
// sets it: the access vlan as PVID and egress untagged; the trunk's VLANs
// tagged (consecutive IDs as one range); with a trunk but no access vlan,
// VLAN 1 as native (PVID, untagged).
type PortVLANs struct {
	// Set lists the VLANs to add, in order.
	Set []PortVLAN
	// Flush removes what the kernel gave the new port (the bridge's
	// default_pvid) before Set: unless preserveDefaultVlan, whenever a
	// vlan or trunk is configured.
	Flush bool
}

// portVLANs is the config's VLAN table for each of its ports.
func (c *Config) portVLANs() PortVLANs {
	var p PortVLANs
	if c.VLAN == 0 && len(c.VLANTrunk) == 0 {
		return p
	}
	p.Flush = !c.PreserveDefaultVLAN
	if c.VLAN != 0 {
		p.Set = append(p.Set, PortVLAN{Min: c.VLAN, Max: c.VLAN, PVID: true, Untagged: true})
	}
	trunk := c.VLANTrunk
	if c.VLAN == 0 {
		// VLAN 1 is the native VLAN; listed in the trunk too, it stays native.
		trunk = slices.DeleteFunc(slices.Clone(trunk), func(v int) bool { return v == 1 })
	}
	for i := 0; i < len(trunk); {
		j := i
		for j+1 < len(trunk) && trunk[j+1] == trunk[j]+1 {
			j++
		}
		p.Set = append(p.Set, PortVLAN{Min: trunk[i], Max: trunk[j]})
		i = j + 1
	}
	if c.VLAN == 0 {
		p.Set = append(p.Set, PortVLAN{Min: 1, Max: 1, PVID: true, Untagged: true})
	}
	return p
}

// checkContainerInterface refuses disableContainerInterface with IPAM, as
// upstream: addresses on a link that stays down serve nothing.
func (c *Config) checkContainerInterface() error {
	if c.DisableContainerInterface && c.IPAMType != "" {
		return cnierr.InvalidConfig("disableContainerInterface", true,
			fmt.Sprintf("cannot be used with ipam (type %q): the container interface is left down, so it gets no addresses", c.IPAMType))
	}
	return nil
}

// vlanRefusal turns the kernel lacking VLAN filtering into a refusal of
// the key that asked for it (code 2); other errors pass unchanged.
func (c *Config) vlanRefusal(err error) error {
	if !errors.Is(err, errNoVLANFiltering) {
		return err
	}
	key, value := "vlan", fmt.Sprint(c.VLAN)
	if c.VLAN == 0 {
		key, value = "vlanTrunk", fmt.Sprint(c.VLANTrunk)
	}
	return types.NewError(types.ErrUnsupportedField,
		fmt.Sprintf("config key %q (value %s) needs bridge VLAN filtering, and %v", key, value, err), "")
}

// PortVLANTable is a bridge port's VLAN table as the kernel reports it.
// Equivalent to: bridge vlan show dev $port
type PortVLANTable struct {
	// VLANs lists the port's VLANs, one entry per ID.
	VLANs []PortVLAN
	// DefaultPVID is the bridge's vlan_default_pvid, which the kernel
	// gives every new port (0: none).
	DefaultPVID int
}

// vlanFlags is one VLAN's flags on a port.
type vlanFlags struct{ PVID, Untagged bool }

func (f vlanFlags) String() string {
	s := "tagged"
	if f.Untagged {
		s = "untagged"
	}
	if f.PVID {
		s = "pvid " + s
	}
	return s
}

// byVID expands ranges into one entry per VLAN ID.
func byVID(vs []PortVLAN) map[int]vlanFlags {
	m := map[int]vlanFlags{}
	for _, v := range vs {
		for id := v.Min; id <= v.Max; id++ {
			m[id] = vlanFlags{PVID: v.PVID, Untagged: v.Untagged}
		}
	}
	return m
}

// table is the VLAN table ADD leaves on a new port of a bridge whose
// vlan_default_pvid is defaultPVID: the kernel's default entry (PVID,
// untagged) unless flushed, then each of Set in order. As in the kernel,
// adding a VLAN the port has replaces its flags, and a port has at most
// one PVID.
func (p PortVLANs) table(defaultPVID int) map[int]vlanFlags {
	m := map[int]vlanFlags{}
	if !p.Flush && defaultPVID != 0 {
		m[defaultPVID] = vlanFlags{PVID: true, Untagged: true}
	}
	for _, v := range p.Set {
		for id := v.Min; id <= v.Max; id++ {
			if v.PVID {
				for other, f := range m {
					f.PVID = false
					m[other] = f
				}
			}
			m[id] = vlanFlags{PVID: v.PVID, Untagged: v.Untagged}
		}
	}
	return m
}

// diffPortVLANs names the first difference, by VLAN ID, between a port's
// VLAN table and the one its config wants: a missing VLAN, a VLAN with
// other flags (PVID, untagged), or a VLAN the config does not have.
func diffPortVLANs(want, got map[int]vlanFlags) error {
	ids := make([]int, 0, len(want)+len(got))
	for id := range want {
		ids = append(ids, id)
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		w, inWant := want[id]
		g, inGot := got[id]
		switch {
		case !inGot:
			return fmt.Errorf("VLAN %d missing, want %s", id, w)
		case !inWant:
			return fmt.Errorf("VLAN %d (%s) is not in the config", id, g)
		case w != g:
			return fmt.Errorf("VLAN %d is %s, want %s", id, g, w)
		}
	}
	return nil
}
