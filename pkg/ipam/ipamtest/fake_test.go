package ipamtest

import (
	"errors"
	"testing"
)

func TestFakeReservesOncePerAttachmentAndReleases(t *testing.T) {
	f := New("10.22.0.0/16")
	f.Attachment = "c1/eth0"
	r1, err := f.Add("", nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := f.Add("", nil)
	if got, want := r1.IPs[0].Address.String(), "10.22.0.2/16"; got != want || r2.IPs[0].Address.String() != got {
		t.Errorf("ADD twice gave %s then %s, want %s both times", got, r2.IPs[0].Address.String(), want)
	}
	if gw := r1.IPs[0].Gateway.String(); gw != "10.22.0.1" {
		t.Errorf("gateway %s, want 10.22.0.1", gw)
	}
	f.Attachment = "c2/eth0"
	if r, _ := f.Add("", nil); r.IPs[0].Address.String() != "10.22.0.3/16" {
		t.Errorf("second attachment got %s, want 10.22.0.3/16", r.IPs[0].Address.String())
	}
	if err := f.Del("", nil); err != nil || f.Check("", nil) == nil {
		t.Errorf("after DEL: Del = %v, Check passed; want the reservation gone", err)
	}
	if h, _ := f.Holders("", nil, ""); len(h) != 1 || h[0].ContainerID != "c1" {
		t.Errorf("holders %v, want c1 alone", h)
	}
}

func TestFakeInjectedFailureChangesNothing(t *testing.T) {
	f := New("10.23.0.0/24")
	f.Attachment = "c1/eth0"
	f.Fail["IPAM.Add"] = errors.New("no space")
	if _, err := f.Add("", nil); err == nil || len(f.Reserved) != 0 {
		t.Errorf("failing ADD = %v with %v reserved, want the error and nothing", err, f.Reserved)
	}
}
