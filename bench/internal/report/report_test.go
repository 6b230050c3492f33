package report

import (
	"math"
	"testing"
)

func sample() Table {
	return Table{
		Title:  "ADD latency",
		Header: []string{"pods", "ours ms", "ratio"},
		Rows: [][]string{
			{"1", "5.1", "0.19x"},
			{"1000", "9.25", "a|b"},
		},
		Notes: []string{"ratio = ours/upstream"},
	}
}

func TestMarkdown(t *testing.T) {
	want := "### ADD latency\n\n" +
		"| pods | ours ms | ratio |\n" +
		"| --- | --- | --- |\n" +
		"| 1 | 5.1 | 0.19x |\n" +
		"| 1000 | 9.25 | a\\|b |\n" +
		"\nratio = ours/upstream\n\n"
	if got := sample().Markdown(); got != want {
		t.Errorf("Markdown() =\n%s\nwant\n%s", got, want)
	}
}

func TestText(t *testing.T) {
	want := "ADD latency\n" +
		"pods  ours ms  ratio\n" +
		"--------------------\n" +
		"1     5.1      0.19x\n" +
		"1000  9.25     a|b\n" +
		"  ratio = ours/upstream\n"
	if got := sample().Text(); got != want {
		t.Errorf("Text() =\n%s\nwant\n%s", got, want)
	}
}

func TestAddRow(t *testing.T) {
	tbl := Table{Title: "t", Header: []string{"a", "b"}}
	if err := tbl.AddRow("1"); err != nil {
		t.Fatalf("AddRow with a missing cell: %v", err)
	}
	if got := tbl.Rows[0]; len(got) != 2 || got[0] != "1" || got[1] != "" {
		t.Errorf("row = %q, want [1 \"\"]", got)
	}
	if err := tbl.AddRow("1", "2", "3"); err == nil {
		t.Error("AddRow accepted more cells than columns")
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		v    float64
		dec  int
		want string
	}{
		{27.54, 1, "27.5"},
		{83000, 0, "83000"},
		{math.NaN(), 1, "n/a"},
	}
	for _, tt := range tests {
		if got := Num(tt.v, tt.dec); got != tt.want {
			t.Errorf("Num(%v, %d) = %q, want %q", tt.v, tt.dec, got, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{0.4242, "0.42x"}, {1, "1.00x"}, {math.NaN(), "n/a"}}
	for _, tt := range tests {
		if got := Ratio(tt.v); got != tt.want {
			t.Errorf("Ratio(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
