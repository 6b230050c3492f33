package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as three tables: networks, attachments,
// and the reservations GC would release. Values that are unknown print
// as "-".
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NETWORK\tPLUGIN\tBRIDGE\tRULES")
	for _, n := range r.Networks {
		rules := n.Rules.State
		if n.Rules.Detail != "" {
			rules += " (" + n.Rules.Detail + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Name, n.Plugin, dash(n.Bridge), rules)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "NETWORK\tCONTAINER\tPOD\tIFNAME\tHOST VETH\tADDRESSES\tRPS/RFS\tSTATE")
	for _, a := range r.Attachments {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Network, short(a.ContainerID), dash(pod(a)), a.IfName,
			dash(a.HostVeth), dash(strings.Join(a.Addresses, ",")), dash(rpsSummary(a.RPS)), state(a))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "STALE RESERVATIONS (GC would release)")
	fmt.Fprintln(tw, "NETWORK\tADDRESS\tCONTAINER\tIFNAME")
	for _, s := range r.Stale {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Network, s.Address, short(s.ContainerID), s.IfName)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short cuts a container ID to the 12 characters runtimes show.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func pod(a Attachment) string {
	if a.PodName == "" {
		return ""
	}
	if a.PodNamespace == "" {
		return a.PodName
	}
	return a.PodNamespace + "/" + a.PodName
}

func state(a Attachment) string {
	s := "live"
	if !a.Live {
		s = "stale"
	}
	if a.Problem != "" {
		s += ": " + a.Problem
	}
	return s
}

// rpsSummary is "cpus=<mask> flows=<n>" when every queue agrees, else
// each queue's settings.
func rpsSummary(qs []Queue) string {
	if len(qs) == 0 {
		return ""
	}
	same := true
	for _, q := range qs[1:] {
		same = same && q.CPUs == qs[0].CPUs && q.FlowCount == qs[0].FlowCount
	}
	if same {
		return fmt.Sprintf("cpus=%s flows=%s", qs[0].CPUs, qs[0].FlowCount)
	}
	var parts []string
	for _, q := range qs {
		parts = append(parts, fmt.Sprintf("%s:cpus=%s,flows=%s", q.Queue, q.CPUs, q.FlowCount))
	}
	return strings.Join(parts, " ")
}
