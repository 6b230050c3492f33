// Package report renders benchmark results as tables, both as aligned text
// for the terminal and as Markdown for BENCHMARKS.md, and formats the
// numbers that go into them. It is pure: callers decide where text goes.
package report

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Table is a titled grid of cells. Every row has len(Header) cells; Notes
// are printed under the table (units, what a ratio means, caveats).
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	Notes  []string
}

// AddRow appends one row. Missing cells are left empty and extra cells are
// an error, so a column mix-up is caught when the table is built.
func (t *Table) AddRow(cells ...string) error {
	if len(cells) > len(t.Header) {
		return fmt.Errorf("adding row to table %q: %d cells for %d columns", t.Title, len(cells), len(t.Header))
	}
	row := make([]string, len(t.Header))
	copy(row, cells)
	t.Rows = append(t.Rows, row)
	return nil
}

// Markdown renders t as a GitHub-flavoured Markdown table under a level-3
// heading. Pipes inside cells are escaped.
func (t Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", t.Title)
	writeMarkdownRow(&b, t.Header)
	sep := make([]string, len(t.Header))
	for i := range sep {
		sep[i] = "---"
	}
	writeMarkdownRow(&b, sep)
	for _, r := range t.Rows {
		writeMarkdownRow(&b, r)
	}
	if len(t.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "%s\n", n)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func writeMarkdownRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		fmt.Fprintf(b, " %s |", strings.ReplaceAll(c, "|", `\|`))
	}
	b.WriteString("\n")
}

// Text renders t with columns padded to their widest cell, for a terminal.
func (t Table) Text() string {
	width := make([]int, len(t.Header))
	for _, r := range append([][]string{t.Header}, t.Rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", t.Title)
	writeTextRow(&b, t.Header, width)
	total := 0
	for _, w := range width {
		total += w + 2
	}
	fmt.Fprintf(&b, "%s\n", strings.Repeat("-", max(total-2, 0)))
	for _, r := range t.Rows {
		writeTextRow(&b, r, width)
	}
	for _, n := range t.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	return b.String()
}

func writeTextRow(b *strings.Builder, cells []string, width []int) {
	var parts []string
	for i, c := range cells {
		parts = append(parts, c+strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
	}
	fmt.Fprintf(b, "%s\n", strings.TrimRight(strings.Join(parts, "  "), " "))
}

// Num formats v with the given number of decimals; NaN (no measurement)
// prints as "n/a".
func Num(v float64, decimals int) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", decimals, v)
}

// Ratio formats a ratio as "0.42x"; NaN prints as "n/a".
func Ratio(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", v)
}
