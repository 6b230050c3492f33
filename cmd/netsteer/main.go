// Command netsteer is the operator's view of netsteer on a node.
//
//	netsteer inspect [--json] [--sys DIR] [--cni-dir DIR]
//	netsteer --version
//
// inspect lists every attachment of the node's vethbridge and ipvlan
// networks (network, container, pod, interface, host veth, addresses,
// RPS/RFS settings), whether each network's netfilter rules are in place,
// and the host-local reservations whose attachment is gone, which the
// network's GC would release. It only reads: sysfs, the runtime's result
// cache, host-local's store and iptables-save. Run it in the network
// namespace the plugins run in (the node's).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/netsteer/netsteer/pkg/buildinfo"
	"github.com/netsteer/netsteer/pkg/inspect"
)

const usage = `usage:
  netsteer inspect [--json] [--sys DIR] [--cni-dir DIR]
  netsteer --version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if buildinfo.PrintIfAsked("netsteer", args, stdout) {
		return 0
	}
	if len(args) == 0 || args[0] != "inspect" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("netsteer inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	node := inspect.Node{Rules: inspect.IPTablesSave{}, NFT: inspect.NFTList{}}
	fs.StringVar(&node.Sys, "sys", "/sys", "sysfs of the plugins' network namespace")
	fs.StringVar(&node.CNIDir, "cni-dir", "/var/lib/cni", "CNI state dir: the runtime's results/ cache and host-local's networks/")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "netsteer inspect: unexpected arguments %q\n%s", fs.Args(), usage)
		return 2
	}
	report, err := node.Inspect()
	if err != nil {
		fmt.Fprintln(stderr, "netsteer inspect:", err)
		return 1
	}
	if *asJSON {
		err = report.WriteJSON(stdout)
	} else {
		err = report.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "netsteer inspect:", err)
		return 1
	}
	return 0
}
