package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Units read from the benchmark output.
const (
	unitNs     = "ns/op"
	unitBytes  = "B/op"
	unitAllocs = "allocs/op"
	unitCPU    = "cpu-ns/op" // process CPU time per op, reported by BenchmarkVerify
)

// cellKey names one measured combination.
type cellKey struct{ alg, lib string }

// samples are the values of every run of one combination, by unit.
type samples map[string][]float64

// measurements are the runs of BenchmarkVerify read from raw output.
type measurements struct {
	cells map[cellKey]samples
	algs  []string // in order of first appearance
	libs  []string // in order of first appearance
	meta  map[string]string
}

// parseResults reads `go test -bench` output and collects the runs of each
// Verify/alg=A/lib=L benchmark. Other benchmarks are ignored.
func parseResults(r io.Reader, name string) (*measurements, error) {
	m := &measurements{cells: map[cellKey]samples{}, meta: map[string]string{}}
	rd := benchfmt.NewReader(r, name)
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			for _, c := range rec.Config {
				if _, seen := m.meta[c.Key]; c.File && !seen && strings.HasPrefix(c.Key, metaPrefix) {
					m.meta[c.Key] = string(c.Value)
				}
			}
			alg, lib, ok := splitName(rec.Name)
			if !ok {
				continue
			}
			k := cellKey{alg, lib}
			s := m.cells[k]
			if s == nil {
				s = samples{}
				m.cells[k] = s
			}
			if !slices.Contains(m.algs, alg) {
				m.algs = append(m.algs, alg)
			}
			if !slices.Contains(m.libs, lib) {
				m.libs = append(m.libs, lib)
			}
			for _, v := range rec.Values {
				unit, val := v.Unit, v.Value
				if v.OrigUnit != "" {
					unit, val = v.OrigUnit, v.OrigValue
				}
				s[unit] = append(s[unit], val)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	if len(m.cells) == 0 {
		return nil, fmt.Errorf("%s: no Verify/alg=.../lib=... benchmark results", name)
	}
	return m, nil
}

// splitName extracts alg and lib from "Verify/alg=RS256/lib=jwtgate-2".
func splitName(n benchfmt.Name) (alg, lib string, ok bool) {
	base, parts := n.Parts()
	if string(base) != "Verify" {
		return "", "", false
	}
	for _, p := range parts {
		s := strings.TrimPrefix(string(p), "/")
		if v, found := strings.CutPrefix(s, "alg="); found {
			alg = v
		}
		if v, found := strings.CutPrefix(s, "lib="); found {
			lib = v
		}
	}
	return alg, lib, alg != "" && lib != ""
}

// summary is what the report shows for one combination.
type summary struct {
	n          int     // runs
	ns         float64 // median wall ns/op
	spread     float64 // half the range of wall ns/op, relative to its median
	cpu        float64 // median cpu-ns/op (0 when not reported)
	cpuSpread  float64 // half the range of cpu-ns/op, relative to its median
	bytes      float64 // median B/op
	allocs     float64 // median allocs/op
	cpuPresent bool
}

// cost is the time the ratios compare: CPU time per op where the runs
// reported it, else wall time.
func (s summary) cost() float64 {
	if s.cpuPresent {
		return s.cpu
	}
	return s.ns
}

// summarize returns the medians of one combination; ok is false if it was
// not measured.
func (m *measurements) summarize(alg, lib string) (summary, bool) {
	s, ok := m.cells[cellKey{alg, lib}]
	if !ok || len(s[unitNs]) == 0 {
		return summary{}, false
	}
	out := summary{
		n:      len(s[unitNs]),
		bytes:  median(s[unitBytes]),
		allocs: median(s[unitAllocs]),
	}
	out.ns, out.spread = medianSpread(s[unitNs])
	if cpu := s[unitCPU]; len(cpu) > 0 {
		out.cpu, out.cpuSpread = medianSpread(cpu)
		out.cpuPresent = true
	}
	return out, true
}

// rounds is the largest number of runs of any combination.
func (m *measurements) rounds() int {
	n := 0
	for _, s := range m.cells {
		n = max(n, len(s[unitNs]))
	}
	return n
}

// hasCPU reports whether every measured combination reported CPU time, so
// that all ratios can be of CPU time.
func (m *measurements) hasCPU() bool {
	for _, s := range m.cells {
		if len(s[unitCPU]) == 0 {
			return false
		}
	}
	return len(m.cells) > 0
}

// medianSpread returns the median of xs and half their range relative to it.
func medianSpread(xs []float64) (med, spread float64) {
	med = median(xs)
	if med > 0 {
		spread = (slices.Max(xs) - slices.Min(xs)) / 2 / med
	}
	return med, spread
}

// median of xs (0 for none); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
