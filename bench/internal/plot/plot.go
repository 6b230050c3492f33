// Package plot draws simple line charts as PNG with only the standard
// library: axes, ticks, tick labels, a legend and one polyline per series.
// It exists so the benchmark can ship a latency-versus-pods picture without
// pulling a plotting or font dependency into the module.
package plot

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Series is one line of a chart. X and Y have the same length; points whose
// Y is NaN are skipped (a measurement that did not happen).
type Series struct {
	Name   string
	Color  color.RGBA
	Dashed bool
	X, Y   []float64
}

// Chart is a line chart with linear axes starting at zero.
type Chart struct {
	Title          string
	XLabel, YLabel string
	Width, Height  int
	Series         []Series
}

// Layout constants, in pixels. Text is drawn at scale 2, so one character
// cell is 12x16 including spacing.
const (
	textScale   = 2
	marginLeft  = 90
	marginRight = 40
	marginTop   = 60
	marginBot   = 70 // axis labels; the legend adds legendRow per two series
	legendRow   = glyphH*textScale + 8
)

// Colours of the chart's frame; series bring their own.
func white() color.RGBA { return color.RGBA{0xff, 0xff, 0xff, 0xff} }
func black() color.RGBA { return color.RGBA{0x00, 0x00, 0x00, 0xff} }
func grey() color.RGBA  { return color.RGBA{0xdd, 0xdd, 0xdd, 0xff} }

// WritePNG renders c and encodes it as PNG to w.
func (c Chart) WritePNG(w io.Writer) error {
	img, err := c.Render()
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encoding chart %q as PNG: %w", c.Title, err)
	}
	return nil
}

// Render draws c into a new image of c.Width x c.Height.
func (c Chart) Render() (*image.RGBA, error) {
	bottom := marginBot + legendRow*((len(c.Series)+1)/2)
	if c.Width < marginLeft+marginRight+100 || c.Height < marginTop+bottom+100 {
		return nil, fmt.Errorf("rendering chart %q: size %dx%d is too small", c.Title, c.Width, c.Height)
	}
	for _, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("rendering chart %q: series %q has %d x and %d y values", c.Title, s.Name, len(s.X), len(s.Y))
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, c.Width, c.Height))
	fillRect(img, img.Bounds(), white())

	xmax, ymax := c.extent()
	xticks, yticks := Ticks(xmax, 6), Ticks(ymax, 6)
	xmax, ymax = xticks[len(xticks)-1], yticks[len(yticks)-1]
	area := image.Rect(marginLeft, marginTop, c.Width-marginRight, c.Height-bottom)
	toPx := func(x, y float64) (int, int) {
		px := area.Min.X + int(math.Round(x/xmax*float64(area.Dx())))
		py := area.Max.Y - int(math.Round(y/ymax*float64(area.Dy())))
		return px, py
	}

	for _, t := range yticks {
		_, py := toPx(0, t)
		hline(img, area.Min.X, area.Max.X, py, grey())
		label := FormatTick(t)
		drawText(img, area.Min.X-10-textWidth(label), py-glyphH*textScale/2, label, black())
	}
	for _, t := range xticks {
		px, _ := toPx(t, 0)
		vline(img, px, area.Max.Y, area.Max.Y+6, black())
		label := FormatTick(t)
		drawText(img, px-textWidth(label)/2, area.Max.Y+12, label, black())
	}
	hline(img, area.Min.X, area.Max.X, area.Max.Y, black())
	vline(img, area.Min.X, area.Min.Y, area.Max.Y, black())

	drawText(img, (c.Width-textWidth(c.Title))/2, 16, c.Title, black())
	drawText(img, area.Min.X+(area.Dx()-textWidth(c.XLabel))/2, area.Max.Y+36, c.XLabel, black())
	drawText(img, 8, marginTop-28, c.YLabel, black())

	for _, s := range c.Series {
		drawSeries(img, s, toPx)
	}
	c.drawLegend(img, area)
	return img, nil
}

// extent returns the largest X and Y over all series, at least 1 each so an
// empty chart still has axes.
func (c Chart) extent() (xmax, ymax float64) {
	xmax, ymax = 1, 1
	for _, s := range c.Series {
		for i := range s.X {
			if math.IsNaN(s.Y[i]) {
				continue
			}
			xmax = math.Max(xmax, s.X[i])
			ymax = math.Max(ymax, s.Y[i])
		}
	}
	return xmax, ymax
}

func drawSeries(img *image.RGBA, s Series, toPx func(x, y float64) (int, int)) {
	havePrev := false
	var px0, py0 int
	for i := range s.X {
		if math.IsNaN(s.Y[i]) {
			havePrev = false
			continue
		}
		px, py := toPx(s.X[i], s.Y[i])
		fillRect(img, image.Rect(px-3, py-3, px+4, py+4), s.Color)
		if havePrev {
			line(img, px0, py0, px, py, s.Color, s.Dashed)
		}
		px0, py0, havePrev = px, py, true
	}
}

// drawLegend lays the series names out in two columns below the x axis
// label, where they cannot hide data points.
func (c Chart) drawLegend(img *image.RGBA, area image.Rectangle) {
	top := area.Max.Y + marginBot - 8
	colW := area.Dx() / 2
	for i, s := range c.Series {
		x, y := area.Min.X+(i%2)*colW, top+(i/2)*legendRow
		line(img, x, y+glyphH, x+30, y+glyphH, s.Color, s.Dashed)
		fillRect(img, image.Rect(x+12, y+glyphH-3, x+19, y+glyphH+4), s.Color)
		drawText(img, x+40, y, s.Name, black())
	}
}

// Ticks returns evenly spaced "nice" tick values (steps of 1, 2 or 5 times
// a power of ten) from 0 up to the first tick at or above max, using about
// n intervals.
func Ticks(max float64, n int) []float64 {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		max = 1
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for i := 0; ; i++ {
		// Rounding drops float noise such as 0.30000000000000004.
		v := math.Round(float64(i)*step*1e9) / 1e9
		ticks = append(ticks, v)
		if v >= max*(1-1e-9) {
			return ticks
		}
	}
}

// FormatTick prints a tick value without trailing zeros: 0, 2.5, 100, 0.02.
func FormatTick(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func textWidth(s string) int {
	return len([]rune(s)) * (glyphW + 1) * textScale
}

// drawText draws s with its top-left corner at (x, y). Characters outside
// the font are drawn as '?' so a missing glyph is visible, not silent.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyph(unicode.ToUpper(r))
		if !ok {
			g, _ = glyph('?')
		}
		for row, bits := range g {
			for col, b := range bits {
				if b != '#' {
					continue
				}
				px, py := x+col*textScale, y+row*textScale
				fillRect(img, image.Rect(px, py, px+textScale, py+textScale), c)
			}
		}
		x += (glyphW + 1) * textScale
	}
}

func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	fillRect(img, image.Rect(x0, y, x1+1, y+1), c)
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	fillRect(img, image.Rect(x, y0, x+1, y1+1), c)
}

// line draws a 2-pixel-wide line with Bresenham's algorithm; dashed lines
// leave gaps of 6 pixels every 12.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, dashed bool) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for step := 0; ; step++ {
		if !dashed || step%12 < 6 {
			fillRect(img, image.Rect(x0, y0, x0+2, y0+2), c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
