package stats

import (
	"math"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name    string
		samples []float64
		want    Summary
	}{
		{"one", []float64{7}, Summary{N: 1, Median: 7, P90: 7, Min: 7, Max: 7}},
		{"odd unsorted", []float64{3, 1, 2}, Summary{N: 3, Median: 2, P90: 3, Min: 1, Max: 3}},
		{"even averages middle", []float64{4, 1, 3, 2}, Summary{N: 4, Median: 2.5, P90: 4, Min: 1, Max: 4}},
		{"ten p90 is ninth", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, Summary{N: 10, Median: 5.5, P90: 9, Min: 1, Max: 10}},
		{"fifteen p90 is fourteenth", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 100}, Summary{N: 15, Median: 8, P90: 14, Min: 1, Max: 100}},
		{"duplicates", []float64{5, 5, 5, 1}, Summary{N: 4, Median: 5, P90: 5, Min: 1, Max: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.samples); got != tt.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tt.samples, got, tt.want)
			}
		})
	}
}

func TestSummarizeDoesNotReorderInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("Summarize reordered its input: %v", in)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	got := Summarize(nil)
	if got.N != 0 || !math.IsNaN(got.Median) || !math.IsNaN(got.P90) {
		t.Errorf("Summarize(nil) = %+v, want N=0 and NaN statistics", got)
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b float64
		want float64 // NaN means "want NaN"
	}{
		{10, 20, 0.5},
		{3, 3, 1},
		{1, 0, math.NaN()},
		{math.NaN(), 1, math.NaN()},
		{1, math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		got := Ratio(tt.a, tt.b)
		if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(tt.want) && got != tt.want) {
			t.Errorf("Ratio(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestMillis(t *testing.T) {
	got := Millis([]time.Duration{1500 * time.Microsecond, 2 * time.Second})
	if len(got) != 2 || got[0] != 1.5 || got[1] != 2000 {
		t.Errorf("Millis = %v, want [1.5 2000]", got)
	}
}
