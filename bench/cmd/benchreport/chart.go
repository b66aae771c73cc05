package main

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// libColors gives jwtgate strong colours and the peers muted ones; the
// primitive is the dark floor.
var libColors = map[string]color.Color{
	"jwtgate":        color.RGBA{R: 0x0b, G: 0x6e, B: 0x4f, A: 0xff},
	"jwtgate-cached": color.RGBA{R: 0x43, G: 0xc5, B: 0x9e, A: 0xff},
	"golang-jwt":     color.RGBA{R: 0x4c, G: 0x78, B: 0xa8, A: 0xff},
	"jwx":            color.RGBA{R: 0xe4, G: 0x93, B: 0x44, A: 0xff},
	"go-jose":        color.RGBA{R: 0xb0, G: 0x7a, B: 0xa1, A: 0xff},
	"stdlib":         color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff},
}

var fallbackColor = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}

// clampedLog is a log scale on which values below the axis minimum sit on
// the axis, so that bars (which start at 0) can be drawn.
type clampedLog struct{}

func (clampedLog) Normalize(min, max, x float64) float64 {
	return plot.LogScale{}.Normalize(min, max, math.Max(x, min))
}

// buildChart draws grouped bars of the median cost (CPU ns/op where
// reported, else wall ns/op): one group per algorithm, one bar per library,
// on a log scale.
func buildChart(m *measurements, title string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "wall time per verification (log scale, lower is better)"
	if m.hasCPU() {
		p.Y.Label.Text = "CPU time per verification (log scale, lower is better)"
	}
	p.Y.Scale = clampedLog{}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.ThumbnailWidth = 0.4 * vg.Centimeter
	p.Legend.Padding = 2 * vg.Millimeter
	p.Legend.XOffs = 2 * vg.Millimeter

	groupWidth := 1.5 * vg.Inch
	barWidth := groupWidth / vg.Length(len(m.libs))
	lo, hi := math.Inf(1), 0.0
	for i, lib := range m.libs {
		values := make(plotter.Values, len(m.algs))
		for j, alg := range m.algs {
			s, ok := m.summarize(alg, lib)
			if !ok {
				continue // no bar: stays on the axis
			}
			values[j] = s.cost()
			lo, hi = math.Min(lo, s.cost()), math.Max(hi, s.cost())
		}
		bars, err := plotter.NewBarChart(values, barWidth)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", lib, err)
		}
		bars.LineStyle.Width = 0
		bars.Color = fallbackColor
		if c, ok := libColors[lib]; ok {
			bars.Color = c
		}
		bars.Offset = -groupWidth/2 + barWidth*vg.Length(i) + barWidth/2
		p.Add(bars)
		p.Legend.Add(lib, bars)
	}
	if hi == 0 {
		return nil, fmt.Errorf("chart: nothing measured")
	}
	p.NominalX(m.algs...)
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	// Headroom above the tallest bar for the legend.
	p.Y.Max = hi * math.Pow(10, 1.4)
	p.Y.Tick.Marker = decadeTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	return p, nil
}

// buildHTTPChart draws one bar per HTTP target: the requests/s of its least
// disturbed round, the ceiling first.
func buildHTTPChart(results []*httpResult, title string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "requests per second (higher is better)"
	values := make(plotter.Values, len(results))
	names := make([]string, len(results))
	for i, r := range results {
		if r.best == nil {
			return nil, fmt.Errorf("http chart: %s has no measured round", r.target)
		}
		values[i], names[i] = r.best.RPS, r.target
	}
	bars, err := plotter.NewBarChart(values, 0.9*vg.Inch)
	if err != nil {
		return nil, fmt.Errorf("http chart: %w", err)
	}
	bars.LineStyle.Width = 0
	bars.Color = fallbackColor
	if c, ok := libColors["jwtgate"]; ok {
		bars.Color = c
	}
	p.Add(bars)
	p.NominalX(names...)
	p.Y.Min = 0
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	return p, nil
}

// decadeTicks labels each power of ten with a time unit and marks the
// steps between without labels.
type decadeTicks struct{}

func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for d := math.Floor(math.Log10(min)); math.Pow(10, d) <= max; d++ {
		v := math.Pow(10, d)
		ticks = append(ticks, plot.Tick{Value: v, Label: decadeLabel(v)})
		for i := 2; i < 10 && v*float64(i) <= max; i++ {
			ticks = append(ticks, plot.Tick{Value: v * float64(i)})
		}
	}
	return ticks
}

// decadeLabel names a power of ten of nanoseconds: "100 ns", "10 µs".
func decadeLabel(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%g µs", ns/1e3)
	}
	return fmt.Sprintf("%g ns", ns)
}

// saveChart writes the chart to each file; the extension picks the format
// (.svg, .png).
func saveChart(p *plot.Plot, files ...string) error {
	for _, f := range files {
		if err := p.Save(10*vg.Inch, 5.5*vg.Inch, f); err != nil {
			return fmt.Errorf("chart %s: %w", f, err)
		}
	}
	return nil
}
