// Command tcprr measures TCP request/response rate: one byte each way,
// blocking sockets, a fixed duration, like netperf TCP_RR. nstbench starts
// it inside the namespaces under test and pins it to CPUs itself.
//
//	tcprr server -listen 10.88.0.3:7000   # prints "ready ADDR", serves one client
//	tcprr client -connect 10.88.0.3:7000 -duration 2s   # prints a JSON result
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/netsteer/netsteer/bench/internal/rr"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "tcprr: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: tcprr server|client [flags]")
	}
	// One thread does all the work, so the process behaves like a
	// single-threaded C client when pinned to a CPU.
	runtime.LockOSThread()
	switch args[0] {
	case "server":
		return server(args[1:])
	case "client":
		return client(args[1:])
	}
	return fmt.Errorf("unknown mode %q: want server or client", args[0])
}

func server(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7000", "address:port to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addr, err := netip.ParseAddrPort(*listen)
	if err != nil {
		return fmt.Errorf("parsing -listen: %w", err)
	}
	l, err := rr.Listen(addr)
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Printf("ready %s\n", l.Addr)
	_, err = l.ServeOne()
	return err
}

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	connect := fs.String("connect", "127.0.0.1:7000", "server address:port")
	duration := fs.Duration("duration", 2*time.Second, "how long to run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addr, err := netip.ParseAddrPort(*connect)
	if err != nil {
		return fmt.Errorf("parsing -connect: %w", err)
	}
	res, err := rr.Run(addr, *duration)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}
