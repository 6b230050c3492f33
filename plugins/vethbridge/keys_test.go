package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

const l2Conf = `{"cniVersion": "1.1.0", "name": "unit", "type": "vethbridge", "bridge": "nstbr0"%s}`

func l2Args(extra string) *skel.CmdArgs {
	args := cmdArgs("c1", "/run/netns/c1")
	args.StdinData = []byte(fmt.Sprintf(l2Conf, extra))
	return args
}

// Without IPAM the container veth is set up (as upstream); with
// disableContainerInterface it is left down, and CHECK wants it so.
func TestContainerInterfaceState(t *testing.T) {
	for _, tc := range []struct {
		extra  string
		wantUp bool
	}{
		{"", true},
		{`, "disableContainerInterface": true`, false},
	} {
		t.Run(fmt.Sprintf("up=%v", tc.wantUp), func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			p := n.plugin()
			args := l2Args(tc.extra)
			a, err := add(t, p, args)
			if err != nil {
				t.Fatalf("ADD: %v", err)
			}
			if up := n.netns["/run/netns/c1"]["eth0"].Up; up != tc.wantUp {
				t.Fatalf("container eth0 up=%v, want %v", up, tc.wantUp)
			}
			args.StdinData = withPrevResult(t, string(args.StdinData), a)
			c, err := p.load(args)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.check(c, args, fakeNS(args)); err != nil {
				t.Fatalf("CHECK after ADD: %v", err)
			}
			st := n.netns["/run/netns/c1"]["eth0"]
			st.Up = !st.Up
			n.netns["/run/netns/c1"]["eth0"] = st
			if err := p.check(c, args, fakeNS(args)); err == nil || !strings.Contains(err.Error(), "disableContainerInterface") {
				t.Fatalf("CHECK after flipping the link = %v, want a drift naming disableContainerInterface", err)
			}
		})
	}
}

// A kernel without bridge VLAN filtering refuses vlan and vlanTrunk by
// name (code 2), and the failed ADD leaves nothing of the attachment.
func TestVLANOnKernelWithoutFiltering(t *testing.T) {
	for _, extra := range []string{`, "vlan": 100`, `, "vlanTrunk": [{"id": 7}]`} {
		t.Run(extra, func(t *testing.T) {
			n := newFakeNode(t, "/run/netns/c1")
			n.fail["EnsureBridge"] = fmt.Errorf("bridge nstbr0: %w", errNoVLANFiltering)
			before := n.perAttachment()
			_, err := add(t, n.plugin(), l2Args(extra))
			var te *types.Error
			if !errors.As(cnierr.Outcome(err), &te) || te.Code != types.ErrUnsupportedField || !strings.Contains(te.Msg, "VLAN filtering") {
				t.Fatalf("ADD = %v, want code 2 naming VLAN filtering", err)
			}
			if after := n.perAttachment(); after != before {
				t.Errorf("refused ADD left:\n%s", after)
			}
		})
	}
}
