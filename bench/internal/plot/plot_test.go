package plot

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"slices"
	"testing"
)

func TestWritePNGDecodes(t *testing.T) {
	tests := []struct {
		name   string
		w, h   int
		series []Series
	}{
		{"empty chart", 400, 300, nil},
		{"two series with a gap", 800, 500, []Series{
			{Name: "ADD ours", Color: color.RGBA{0, 0, 0xff, 0xff}, X: []float64{1, 100, 500, 1000}, Y: []float64{5, 6, math.NaN(), 9}},
			{Name: "ADD upstream", Color: color.RGBA{0xff, 0, 0, 0xff}, Dashed: true, X: []float64{1, 100, 500, 1000}, Y: []float64{27.5, 33, 56.8, 90}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Chart{Title: "latency", XLabel: "pods attached", YLabel: "ms", Width: tt.w, Height: tt.h, Series: tt.series}
			var buf bytes.Buffer
			if err := c.WritePNG(&buf); err != nil {
				t.Fatalf("WritePNG: %v", err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("decoding the PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.w, tt.h)
			}
		})
	}
}

// TestRenderDrawsSeriesColour checks that a series actually leaves pixels of
// its colour on the canvas, so a chart cannot silently come out blank.
func TestRenderDrawsSeriesColour(t *testing.T) {
	red := color.RGBA{0xff, 0, 0, 0xff}
	c := Chart{Width: 400, Height: 300, Series: []Series{{Name: "r", Color: red, X: []float64{0, 10}, Y: []float64{0, 10}}}}
	img, err := c.Render()
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.RGBAAt(x, y) == red {
				n++
			}
		}
	}
	if n < 100 {
		t.Errorf("found %d red pixels, want a drawn line (>= 100)", n)
	}
}

func TestRenderRejects(t *testing.T) {
	tests := []struct {
		name string
		c    Chart
	}{
		{"too small", Chart{Width: 10, Height: 10}},
		{"mismatched series", Chart{Width: 400, Height: 300, Series: []Series{{X: []float64{1}, Y: nil}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.c.Render(); err == nil {
				t.Error("Render succeeded, want an error")
			}
		})
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		max  float64
		n    int
		want []float64
	}{
		{1000, 5, []float64{0, 200, 400, 600, 800, 1000}},
		{57, 6, []float64{0, 10, 20, 30, 40, 50, 60}},
		{108, 6, []float64{0, 20, 40, 60, 80, 100, 120}},
		{20, 6, []float64{0, 5, 10, 15, 20}},
		{0, 4, []float64{0, 0.5, 1}},
		{0.9, 9, []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}},
		{math.NaN(), 4, []float64{0, 0.5, 1}},
	}
	for _, tt := range tests {
		if got := Ticks(tt.max, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Ticks(%v, %d) = %v, want %v", tt.max, tt.n, got, tt.want)
		}
	}
}

func TestFormatTick(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{0, "0"}, {2.5, "2.5"}, {100, "100"}, {0.2, "0.2"}}
	for _, tt := range tests {
		if got := FormatTick(tt.v); got != tt.want {
			t.Errorf("FormatTick(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestGlyphsAreWellFormed(t *testing.T) {
	for _, r := range glyphChars {
		g, ok := glyph(r)
		if !ok {
			t.Errorf("glyph(%q) missing although listed in glyphChars", r)
		}
		for i, row := range g {
			if len(row) != glyphW {
				t.Errorf("glyph %q row %d has width %d, want %d", r, i, len(row), glyphW)
			}
		}
	}
}
