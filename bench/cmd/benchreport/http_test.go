package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/loadgen"
)

// fakeHTTPResult is a target measured over rounds with the given requests/s
// and CPU ns per request; each round's p50 is its index in milliseconds, so
// that the report shows which round it took the latencies from.
func fakeHTTPResult(target string, rps, cpu []float64) *httpResult {
	h := &httpResult{target: target, cpu: cpu}
	for i, v := range rps {
		h.runs = append(h.runs, &loadgen.Result{
			RPS: v, Requests: uint64(v), Elapsed: time.Second,
			Latency: loadgen.Latency{P50: time.Duration(i+1) * time.Millisecond},
		})
	}
	h.summarize()
	return h
}

// TestSummarizeMedianRound checks that the headline figures are the
// medians, the range the slowest and fastest rounds, and the latencies the
// median round's, for odd and even round counts and rounds in any order.
func TestSummarizeMedianRound(t *testing.T) {
	for _, tc := range []struct {
		rps, cpu            []float64
		med, lo, hi, medCPU float64
		midP50              time.Duration
	}{
		{rps: []float64{300, 100, 200}, cpu: []float64{10, 30, 20}, med: 200, lo: 100, hi: 300, medCPU: 20, midP50: 3 * time.Millisecond},
		{rps: []float64{500, 100, 400, 200}, cpu: []float64{1, 4, 2, 3}, med: 300, lo: 100, hi: 500, medCPU: 2.5, midP50: 4 * time.Millisecond},
		{rps: []float64{700}, cpu: []float64{5}, med: 700, lo: 700, hi: 700, medCPU: 5, midP50: time.Millisecond},
	} {
		h := fakeHTTPResult("x", tc.rps, tc.cpu)
		if h.rps != tc.med || h.minRPS != tc.lo || h.maxRPS != tc.hi || h.cpuPerR != tc.medCPU {
			t.Errorf("%v: median %v range %v–%v CPU %v; want %v, %v–%v, %v", tc.rps, h.rps, h.minRPS, h.maxRPS, h.cpuPerR, tc.med, tc.lo, tc.hi, tc.medCPU)
		}
		if h.mid.Latency.P50 != tc.midP50 {
			t.Errorf("%v: latencies of the round with p50 %v, want the median round's (%v)", tc.rps, h.mid.Latency.P50, tc.midP50)
		}
	}
}

// TestHTTPReportRatios checks http.md's headline: jwtgate's median
// requests/s and CPU per request as multiples of oauth2-proxy's, and the
// table's median and range columns.
func TestHTTPReportRatios(t *testing.T) {
	results := []*httpResult{
		fakeHTTPResult("ceiling", []float64{150000, 160000, 140000}, []float64{10e3, 10e3, 10e3}),
		fakeHTTPResult("jwtgate", []float64{100000, 110000, 90000}, []float64{15e3, 14e3, 16e3}),
		fakeHTTPResult("jwtgate-nocache", []float64{40000, 50000, 45000}, []float64{40e3, 40e3, 40e3}),
		fakeHTTPResult("oauth2-proxy", []float64{9000, 11000, 10000}, []float64{250e3, 250e3, 250e3}),
	}
	results[3].keyFetches, results[3].unknownKid = 897, 900
	var md bytes.Buffer
	c := httpConfig{duration: 5 * time.Second, warmup: time.Second, rounds: 3, conns: 32}
	if err := writeHTTPReport(&md, results, nil, c, reportInfo{command: "cd bench && go run ./cmd/benchreport -http 5s"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"**jwtgate serves 10.00× oauth2-proxy's requests per second at 0.060× its CPU per request** (0.021× its checks/req)",
		"**jwtgate-nocache serves 4.50× oauth2-proxy's requests per second at 0.16× its CPU per request**",
		"| **jwtgate** | 100000 | 90000–110000 | 66.7% | 15.0 µs | 5.00 µs |",
		"| oauth2-proxy | 10000 | 9000–11000 | 6.7% | 250 µs | 240 µs |",
		"oauth2-proxy fetched the key set 897 times for 900 unknown-kid requests",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("http.md lacks %q:\n%s", want, md.String())
		}
	}
	if headline(results[:3]) != "" {
		t.Error("a headline without oauth2-proxy measured")
	}

	// Where oauth2-proxy's CPU time cannot be read, its row and the
	// headline still compare requests/s, and the report says why.
	peer := &httpResult{target: "oauth2-proxy", runs: results[3].runs, noCPU: errors.New("no /proc here")}
	peer.summarize()
	results[3] = peer
	md.Reset()
	if err := writeHTTPReport(&md, results, nil, c, reportInfo{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"**jwtgate serves 10.00× oauth2-proxy's requests per second**;",
		"| oauth2-proxy | 10000 | 9000–11000 | 6.7% | – | – | – |",
		"No CPU figures for oauth2-proxy: no /proc here.",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("http.md without oauth2-proxy's CPU lacks %q:\n%s", want, md.String())
		}
	}
}

// TestHTTPChart draws the chart from medians and ranges and refuses results
// without a server besides the ceiling.
func TestHTTPChart(t *testing.T) {
	results := []*httpResult{
		fakeHTTPResult("ceiling", []float64{150000, 160000, 140000}, []float64{1, 1, 1}),
		fakeHTTPResult("jwtgate", []float64{100000, 110000, 90000}, []float64{1, 1, 1}),
		fakeHTTPResult("oauth2-proxy", []float64{9000, 11000, 10000}, []float64{1, 1, 1}),
	}
	p, err := buildHTTPChart(results, "test")
	if err != nil {
		t.Fatal(err)
	}
	if p.Y.Max < 150000 || p.Y.Max > 1.5*150000 {
		t.Errorf("Y axis ends at %v: want room above the ceiling's median (150000) and little more", p.Y.Max)
	}
	results[1] = fakeHTTPResult("jwtgate", []float64{100000, 200000, 90000}, []float64{1, 1, 1})
	if p, err = buildHTTPChart(results, "test"); err != nil {
		t.Fatal(err)
	}
	if p.Y.Max < 200000 {
		t.Errorf("Y axis ends at %v, below jwtgate's fastest round", p.Y.Max)
	}
	if err := saveChart(p, filepath.Join(t.TempDir(), "http.svg")); err != nil {
		t.Fatal(err)
	}
	if _, err := buildHTTPChart(results[:1], "test"); err == nil {
		t.Error("a chart of the ceiling alone")
	}
}
