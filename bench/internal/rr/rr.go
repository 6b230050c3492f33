// Package rr implements a TCP request/response benchmark like netperf's
// TCP_RR: the client sends one byte, the server echoes it, and the client
// counts round trips for a fixed time. It uses blocking sockets through
// raw system calls, not the Go netpoller, so a transaction costs what it
// costs a C program: one write and one blocking read on each side.
package rr

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Listener is a bound, listening TCP socket.
type Listener struct {
	fd   int
	Addr netip.AddrPort
}

// Listen opens a listening socket on addr; port 0 picks a free port.
func Listen(addr netip.AddrPort) (*Listener, error) {
	fd, err := socket(addr)
	if err != nil {
		return nil, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("setting SO_REUSEADDR on %s: %w", addr, err)
	}
	if err := unix.Bind(fd, sockaddr(addr)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding %s: %w", addr, err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reading bound address of %s: %w", addr, err)
	}
	return &Listener{fd: fd, Addr: addrPort(sa)}, nil
}

// Close closes the listening socket.
func (l *Listener) Close() error {
	return unix.Close(l.fd)
}

// ServeOne accepts one connection and echoes every byte until the peer
// closes it. It returns the number of bytes echoed, i.e. transactions.
func (l *Listener) ServeOne() (int64, error) {
	cfd, _, err := unix.Accept4(l.fd, unix.SOCK_CLOEXEC)
	if err != nil {
		return 0, fmt.Errorf("accepting on %s: %w", l.Addr, err)
	}
	defer unix.Close(cfd)
	if err := unix.SetsockoptInt(cfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return 0, fmt.Errorf("setting TCP_NODELAY: %w", err)
	}
	buf := make([]byte, 1)
	var n int64
	for {
		r, err := read(cfd, buf)
		if err != nil {
			return n, fmt.Errorf("reading request %d: %w", n+1, err)
		}
		if r == 0 {
			return n, nil
		}
		if err := write(cfd, buf); err != nil {
			return n, fmt.Errorf("writing response %d: %w", n+1, err)
		}
		n++
	}
}

// Result is what a client run measured.
type Result struct {
	Transactions int64         `json:"transactions"`
	Elapsed      time.Duration `json:"elapsed_ns"`
	PerSecond    float64       `json:"tps"`
}

// Run connects to server and does transactions for duration.
func Run(server netip.AddrPort, duration time.Duration) (Result, error) {
	fd, err := socket(server)
	if err != nil {
		return Result{}, err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return Result{}, fmt.Errorf("setting TCP_NODELAY: %w", err)
	}
	if err := unix.Connect(fd, sockaddr(server)); err != nil {
		return Result{}, fmt.Errorf("connecting to %s: %w", server, err)
	}
	buf := []byte{'x'}
	start := time.Now()
	deadline := start.Add(duration)
	var n int64
	for {
		if err := write(fd, buf); err != nil {
			return Result{}, fmt.Errorf("writing request %d: %w", n+1, err)
		}
		r, err := read(fd, buf)
		if err != nil {
			return Result{}, fmt.Errorf("reading response %d: %w", n+1, err)
		}
		if r == 0 {
			return Result{}, fmt.Errorf("reading response %d: server closed the connection", n+1)
		}
		n++
		if now := time.Now(); !now.Before(deadline) {
			elapsed := now.Sub(start)
			return Result{Transactions: n, Elapsed: elapsed, PerSecond: float64(n) / elapsed.Seconds()}, nil
		}
	}
}

func socket(addr netip.AddrPort) (int, error) {
	family := unix.AF_INET
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening TCP socket for %s: %w", addr, err)
	}
	return fd, nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if a := ap.Addr().Unmap(); a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// read and write retry on EINTR, which the Go runtime's preemption signals
// cause on blocking system calls.
func read(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

func write(fd int, buf []byte) error {
	for {
		_, err := unix.Write(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
