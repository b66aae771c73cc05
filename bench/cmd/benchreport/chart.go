package main

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

// buildHTTPChart draws one bar per server: the median requests/s over the
// rounds, with a whisker from the slowest round to the fastest and the
// figure above it; the first result (the ceiling) is a dashed reference line
// across the chart instead of a bar.
func buildHTTPChart(results []*httpResult, title string) (*plot.Plot, error) {
	if len(results) < 2 {
		return nil, fmt.Errorf("http chart: need the ceiling and at least one server, got %d results", len(results))
	}
	for _, r := range results {
		if r.mid == nil {
			return nil, fmt.Errorf("http chart: %s has no measured round", r.target)
		}
	}
	ceiling, servers := results[0], results[1:]
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "requests per second (higher is better)"
	p.X.Label.Text = "server (bar: median of the rounds; whisker: slowest to fastest round)"
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = 0.6 * vg.Centimeter

	names := make([]string, len(servers))
	whiskers := make(rangeBars, len(servers))
	labels := plotter.XYLabels{XYs: make(plotter.XYs, len(servers)), Labels: make([]string, len(servers))}
	top := ceiling.rps // the line is drawn at the ceiling's median
	for i, r := range servers {
		bars, err := plotter.NewBarChart(plotter.Values{r.rps}, 0.8*vg.Inch)
		if err != nil {
			return nil, fmt.Errorf("http chart %s: %w", r.target, err)
		}
		bars.XMin = float64(i)
		bars.LineStyle.Width = 0
		bars.Color = fallbackColor
		if c, ok := httpColors[r.target]; ok {
			bars.Color = c
		}
		p.Add(bars)
		names[i] = r.target
		whiskers[i] = rangeBar{x: float64(i), med: r.rps, lo: r.minRPS, hi: r.maxRPS}
		labels.XYs[i] = plotter.XY{X: float64(i), Y: r.maxRPS}
		labels.Labels[i] = fmt.Sprintf("%.0f", r.rps)
		top = math.Max(top, r.maxRPS)
	}
	errBars, err := plotter.NewYErrorBars(whiskers)
	if err != nil {
		return nil, fmt.Errorf("http chart: %w", err)
	}
	errBars.LineStyle.Width = vg.Points(1.2)
	errBars.CapWidth = 0.25 * vg.Inch
	p.Add(errBars)
	p.Legend.Add("slowest to fastest round", whiskerThumb(errBars.LineStyle))

	line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: ceiling.rps}, {X: float64(len(servers)) - 0.5, Y: ceiling.rps}})
	if err != nil {
		return nil, fmt.Errorf("http chart: %w", err)
	}
	line.LineStyle.Width = vg.Points(1.5)
	line.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	line.LineStyle.Color = libColors["stdlib"]
	p.Add(line)
	p.Legend.Add(fmt.Sprintf("ceiling: a bare server answering 200, median %.0f req/s", ceiling.rps), line)

	text, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, fmt.Errorf("http chart: %w", err)
	}
	for i := range text.TextStyle {
		text.TextStyle[i].XAlign = draw.XCenter
	}
	text.Offset = vg.Point{Y: vg.Points(4)}
	p.Add(text)

	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(servers))-0.5
	p.Y.Min = 0
	p.Y.Max = top * 1.25 // headroom for the figures and the legend
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	return p, nil
}

// httpColors gives jwtgate's rows its strong colours and the peers muted
// ones.
var httpColors = map[string]color.Color{
	"jwtgate":         libColors["jwtgate"],
	"jwtgate-nocache": libColors["jwtgate-cached"],
	"golang-jwt":      libColors["golang-jwt"],
	"oauth2-proxy":    libColors["jwx"],
}

// whiskerThumb is the legend's picture of a whisker: a vertical line with
// caps.
type whiskerThumb draw.LineStyle

// Thumbnail draws the whisker in the middle of c.
func (w whiskerThumb) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	half := (c.Max.X - c.Min.X) / 4
	style := draw.LineStyle(w)
	c.StrokeLine2(style, x, c.Min.Y, x, c.Max.Y)
	c.StrokeLine2(style, x-half, c.Min.Y, x+half, c.Min.Y)
	c.StrokeLine2(style, x-half, c.Max.Y, x+half, c.Max.Y)
}

// rangeBar is one server's median requests/s and the range over the rounds.
type rangeBar struct{ x, med, lo, hi float64 }

// rangeBars are drawn as whiskers from lo to hi at each x.
type rangeBars []rangeBar

func (b rangeBars) Len() int                { return len(b) }
func (b rangeBars) XY(i int) (x, y float64) { return b[i].x, b[i].med }
func (b rangeBars) YError(i int) (below, above float64) {
	return b[i].med - b[i].lo, b[i].hi - b[i].med
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
