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
	node, asJSON, code := parseInspect(args[1:], stderr)
	if code >= 0 {
		return code
	}
	if err := writeInspect(node, asJSON, stdout); err != nil {
		fmt.Fprintln(stderr, "netsteer inspect:", err)
		return 1
	}
	return 0
}

// parseInspect reads the flags of `netsteer inspect`; code is the exit
// code when run must stop (0 after -h, 2 on bad usage), else -1.
func parseInspect(args []string, stderr io.Writer) (node inspect.Node, asJSON bool, code int) {
	fs := flag.NewFlagSet("netsteer inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of tables")
	node = inspect.Node{Rules: inspect.IPTablesSave{}, NFT: inspect.NFTList{}}
	fs.StringVar(&node.Sys, "sys", "/sys", "sysfs of the plugins' network namespace")
	fs.StringVar(&node.CNIDir, "cni-dir", "/var/lib/cni", "CNI state dir: the runtime's results/ cache and host-local's networks/")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return node, asJSON, 0
		}
		return node, asJSON, 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "netsteer inspect: unexpected arguments %q\n%s", fs.Args(), usage)
		return node, asJSON, 2
	}
	return node, asJSON, -1
}

// writeInspect inspects the node and prints the report as tables or JSON.
func writeInspect(node inspect.Node, asJSON bool, stdout io.Writer) error {
	report, err := node.Inspect()
	if err != nil {
		return err
	}
	if asJSON {
		return report.WriteJSON(stdout)
	}
	return report.WriteTable(stdout)
}
