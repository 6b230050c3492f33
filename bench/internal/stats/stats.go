// Package stats summarises benchmark samples: median, 90th percentile and
// the ratio of two medians. It is pure so the numbers printed in
// BENCHMARKS.md can be checked by unit tests.
package stats

import (
	"math"
	"slices"
	"time"
)

// Summary describes one set of samples.
type Summary struct {
	N      int     // number of samples
	Median float64 // 50th percentile; the mean of the two middle samples when N is even
	P90    float64 // nearest-rank 90th percentile
	Min    float64
	Max    float64
}

// Summarize returns the Summary of samples. An empty slice yields a Summary
// with N == 0 and NaN statistics, so a missing measurement cannot be
// mistaken for a zero.
func Summarize(samples []float64) Summary {
	if len(samples) == 0 {
		nan := math.NaN()
		return Summary{Median: nan, P90: nan, Min: nan, Max: nan}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return Summary{
		N:      len(s),
		Median: median(s),
		P90:    nearestRank(s, 0.90),
		Min:    s[0],
		Max:    s[len(s)-1],
	}
}

// median of sorted, non-empty s.
func median(s []float64) float64 {
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// nearestRank returns the smallest sample such that at least fraction p of
// the sorted, non-empty s is less than or equal to it. Nearest rank is used
// rather than interpolation because with 15 samples it names a sample that
// was actually observed.
func nearestRank(s []float64, p float64) float64 {
	rank := int(math.Ceil(p * float64(len(s))))
	rank = max(rank, 1)
	return s[rank-1]
}

// Ratio returns a/b, or NaN when either is NaN or b is zero.
func Ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// Millis converts durations to float milliseconds.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}
