package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestTablesControlPlane(t *testing.T) {
	r := Results{
		Scale: []LatencyPoint{{
			Attached: 100,
			Sides: [2]LatencySamples{
				{Add: []float64{5, 6, 7}, Del: []float64{20, 21, 22}, Rules: map[string]int{"nat": 4, "filter": 2}},
				{Add: []float64{30, 40, 50}, Del: []float64{90, 100, 110}, Rules: map[string]int{"nat": 400}},
			},
		}},
	}
	ts := Tables(r, Labels{Ours: "vethbridge", Upstream: "bridge"}, 10000)
	if len(ts) != 3 {
		t.Fatalf("got %d tables, want ADD, DEL and rules", len(ts))
	}
	add, del, rules := ts[0], ts[1], ts[2]
	if got, want := add.Rows[0], []string{"100", "6.0", "7.0", "40.0", "50.0", "0.15x", "3+3"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ADD row = %q, want %q", got, want)
	}
	if got := del.Rows[0][5]; got != "0.21x" {
		t.Errorf("DEL ratio = %q, want 0.21x", got)
	}
	if got, want := rules.Rows[0], []string{"100", "4", "2", "400", "0"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rules row = %q, want %q", got, want)
	}
}

func TestTablesOmitsMissingResults(t *testing.T) {
	if ts := Tables(Results{DataPath: &DataPath{}}, Labels{}, 0); len(ts) != 0 {
		t.Errorf("got %d tables for empty results, want none", len(ts))
	}
}

func TestParallelTableCountsFailures(t *testing.T) {
	rounds := [2][]ParallelRound{
		{{AddWall: 400 * time.Millisecond, DelWall: 200 * time.Millisecond, AddFailed: 2}},
		{{AddWall: time.Second, DelWall: 2 * time.Second}},
	}
	tbl := parallelTable(Labels{Ours: "a", Upstream: "b"}, rounds)
	if got, want := tbl.Rows[0], []string{"a", "400", "200", "2", "0", "0", "1"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("row = %q, want %q", got, want)
	}
	if got := tbl.Rows[2][1:3]; got[0] != "0.40x" || got[1] != "0.10x" {
		t.Errorf("ratio row = %q, want 0.40x 0.10x", got)
	}
}

func TestChartHasFourSeriesOverLevels(t *testing.T) {
	r := Results{Scale: []LatencyPoint{{Attached: 1}, {Attached: 100}}}
	c := Chart(r, Labels{Ours: "a", Upstream: "b"})
	if len(c.Series) != 4 {
		t.Fatalf("got %d series, want 4", len(c.Series))
	}
	for _, s := range c.Series {
		if len(s.X) != 2 || s.X[0] != 1 || s.X[1] != 100 {
			t.Errorf("series %q X = %v, want [1 100]", s.Name, s.X)
		}
	}
	if _, err := c.Render(); err != nil {
		t.Errorf("Render: %v", err)
	}
}
