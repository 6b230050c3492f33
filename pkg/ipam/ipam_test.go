package ipam

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// fakeIPAM records the calls it gets and returns what its fields say.
type fakeIPAM struct {
	calls    []string
	res      *current.Result
	err      error
	holders  []types.GCAttachment
	released []types.GCAttachment
}

var (
	_ Exec   = (*fakeIPAM)(nil)
	_ Leases = (*fakeIPAM)(nil)
)

func (f *fakeIPAM) Add(string, []byte) (*current.Result, error) {
	f.calls = append(f.calls, "ADD")
	return f.res, f.err
}
func (f *fakeIPAM) Del(string, []byte) error    { f.calls = append(f.calls, "DEL"); return f.err }
func (f *fakeIPAM) Check(string, []byte) error  { f.calls = append(f.calls, "CHECK"); return f.err }
func (f *fakeIPAM) GC(string, []byte) error     { f.calls = append(f.calls, "GC"); return f.err }
func (f *fakeIPAM) Status(string, []byte) error { f.calls = append(f.calls, "STATUS"); return f.err }
func (f *fakeIPAM) Holders(string, []byte, string) ([]types.GCAttachment, error) {
	return f.holders, nil
}
func (f *fakeIPAM) Release(_ string, _ []byte, a types.GCAttachment) error {
	f.released = append(f.released, a)
	return nil
}

func codeOf(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestWithoutIPAMEveryCallIsANoOp(t *testing.T) {
	f := &fakeIPAM{err: errors.New("must not run")}
	c := Client{Exec: f, Leases: f}
	res, err := c.Add()
	errs := []error{err, c.Del(), c.Check(), c.Status(), c.GC(nil, []types.GCAttachment{{ContainerID: "x", IfName: "eth0"}})}
	if res != nil || errors.Join(errs...) != nil || len(f.calls) > 0 || len(f.released) > 0 {
		t.Errorf("without IPAM: res=%v errs=%v calls=%v released=%v", res, errs, f.calls, f.released)
	}
}

func TestCodes(t *testing.T) {
	_, ipn, _ := net.ParseCIDR("10.1.0.5/24")
	one := &current.Result{IPs: []*current.IPConfig{{Address: *ipn}}}
	for _, tc := range []struct {
		name string
		f    *fakeIPAM
		call func(Client) error
		code uint
		msg  string
	}{
		{"add ok", &fakeIPAM{res: one}, func(c Client) error { _, err := c.Add(); return err }, 0, ""},
		{"add no IPs", &fakeIPAM{res: &current.Result{}}, func(c Client) error { _, err := c.Add(); return err }, 102, "returned no IP addresses"},
		{"add plain error", &fakeIPAM{err: errors.New("full")}, func(c Client) error { _, err := c.Add(); return err }, 102, "allocating addresses with fake: full"},
		{"add try again kept", &fakeIPAM{err: types.NewError(types.ErrTryAgainLater, "busy", "")}, func(c Client) error { _, err := c.Add(); return err }, 11, "busy"},
		{"del", &fakeIPAM{err: types.NewError(999, "x", "")}, Client.Del, 102, "releasing addresses with fake"},
		{"check", &fakeIPAM{err: errors.New("x")}, Client.Check, 102, "IPAM CHECK with fake"},
		{"status", &fakeIPAM{err: errors.New("down")}, Client.Status, 50, "IPAM plugin fake: down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(Client{Type: "fake", Exec: tc.f, Leases: tc.f})
			if codeOf(err) != tc.code || tc.code != 0 && !strings.Contains(err.Error(), tc.msg) || tc.code == 0 && err != nil {
				t.Errorf("err = %v (code %d), want code %d containing %q", err, codeOf(err), tc.code, tc.msg)
			}
		})
	}
}

func TestGCReleasesStaleAndHeldOnceAndKeepsValid(t *testing.T) {
	a := func(id string) types.GCAttachment { return types.GCAttachment{ContainerID: id, IfName: "eth0"} }
	f := &fakeIPAM{holders: []types.GCAttachment{a("valid"), a("held"), a("stale")}}
	c := Client{Type: "fake", Exec: f, Leases: f}
	if err := c.GC([]types.GCAttachment{a("valid")}, []types.GCAttachment{a("stale")}); err != nil {
		t.Fatal(err)
	}
	if want := []types.GCAttachment{a("stale"), a("held")}; !slices.Equal(f.released, want) {
		t.Errorf("released %v, want %v", f.released, want)
	}
	if !slices.Equal(f.calls, []string{"GC"}) {
		t.Errorf("calls %v, want GC forwarded", f.calls)
	}
}
