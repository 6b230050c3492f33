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

func TestBackendTableComparesEachPluginsBackendsAtSharedCounts(t *testing.T) {
	point := func(n int, ours, upstream float64) LatencyPoint {
		return LatencyPoint{Attached: n, Sides: [2]LatencySamples{
			{Add: []float64{ours}, Del: []float64{2 * ours}}, {Add: []float64{upstream}, Del: []float64{2 * upstream}}}}
	}
	r := Results{
		Scale: []LatencyPoint{point(1, 10, 30), point(100, 12, 40), point(500, 14, 60)},
		NFT:   &NFTResults{Points: []LatencyPoint{point(1, 5, 45), point(500, 7, 90)}},
	}
	var got [][]string
	for _, tbl := range Tables(r, Labels{Ours: "a", Upstream: "b"}, 0) {
		if strings.Contains(tbl.Title, "nftables backend vs iptables backend") {
			got = tbl.Rows
		}
	}
	want := [][]string{
		{"1", "ADD", "5.0", "10.0", "0.50x", "45.0", "30.0", "1.50x"},
		{"1", "DEL", "10.0", "20.0", "0.50x", "90.0", "60.0", "1.50x"},
		{"500", "ADD", "7.0", "14.0", "0.50x", "90.0", "60.0", "1.50x"},
		{"500", "DEL", "14.0", "28.0", "0.50x", "180.0", "120.0", "1.50x"},
	}
	if len(got) != len(want) {
		t.Fatalf("backend table rows %q, want %q", got, want)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, got[i], want[i])
		}
	}
}
