// Command nst-peer is the demo's tiny TCP tool: "listen ADDR" accepts one
// connection and prints the address it came from, "dial ADDR" connects.
// It shows, from outside the node, which source address a pod's traffic
// carries after masquerade. make build puts it in bin/ for scripts/demo.sh;
// it is a demo tool, not part of what an operator installs.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: nst-peer listen|dial HOST:PORT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "nst-peer:", err)
		os.Exit(1)
	}
}

func run(mode, addr string) error {
	switch mode {
	case "listen":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		defer ln.Close()
		fmt.Println("listening")
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Printf("connection from %s\n", c.RemoteAddr().(*net.TCPAddr).IP)
		return nil
	case "dial":
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
	return fmt.Errorf("unknown mode %q", mode)
}
