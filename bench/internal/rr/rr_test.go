package rr

import (
	"net/netip"
	"testing"
	"time"
)

// TestRunCountsEchoedTransactions runs client and server over loopback and
// checks both sides agree on the number of round trips.
func TestRunCountsEchoedTransactions(t *testing.T) {
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	if l.Addr.Port() == 0 {
		t.Fatalf("Listen did not report the chosen port: %v", l.Addr)
	}

	type served struct {
		n   int64
		err error
	}
	done := make(chan served, 1)
	go func() {
		n, err := l.ServeOne()
		done <- served{n, err}
	}()

	res, err := Run(l.Addr, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := <-done
	if s.err != nil {
		t.Fatalf("ServeOne: %v", s.err)
	}
	if res.Transactions == 0 {
		t.Fatal("no transactions completed")
	}
	if s.n != res.Transactions {
		t.Errorf("server echoed %d bytes, client counted %d transactions", s.n, res.Transactions)
	}
	if res.PerSecond <= 0 || res.Elapsed < 50*time.Millisecond {
		t.Errorf("result %+v: want a positive rate over at least the requested duration", res)
	}
}

func TestRunFailsWithoutServer(t *testing.T) {
	l, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	addr := l.Addr
	l.Close()
	if _, err := Run(addr, 10*time.Millisecond); err == nil {
		t.Error("Run succeeded against a closed port")
	}
}
