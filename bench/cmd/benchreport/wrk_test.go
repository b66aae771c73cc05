package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/bench"
)

// TestWriteWrkSection checks RESULTS.md's wrk section: the medians of both
// servers and the verdict, and how to run it when it did not run.
func TestWriteWrkSection(t *testing.T) {
	sample := func(rps, cpuMicros float64) bench.WrkSample {
		n := int64(rps * 5)
		return bench.WrkSample{Requests: n, RPS: rps, CPU: time.Duration(cpuMicros * 1e3 * float64(n))}
	}
	r := &bench.WrkResult{
		Rounds: 3, Duration: 5 * time.Second, Threads: 2, Conns: 64, Users: 1024, Alg: "RS256", Load: "0.20 before, 2.10 after",
		Servers: []bench.WrkServer{
			{Name: bench.WrkCeiling, Samples: []bench.WrkSample{sample(100000, 7), sample(120000, 7.5), sample(110000, 7.2)}},
			{Name: bench.WrkJWTGate, Samples: []bench.WrkSample{sample(92000, 7.8), sample(100000, 8.5), sample(99000, 8)}},
		},
	}
	var b bytes.Buffer
	writeWrkSection(&b, r)
	for _, want := range []string{
		"## `jwtgate serve` against the bare fasthttp server, separate processes (wrk)",
		"wrk (`-t2 -c64`, 1024 distinct RS256 tokens, all in jwtgate's token cache) driving them in turn for 3 rounds",
		"of 5s; CPU per request is each server process's own, from /proc, without wrk's. Load average 0.20 before, 2.10 after. Every round:",
		"| requests/s | 110000 | 99000 | 90.0% (83.3–92.0%) | ≥ 90%: met |",
		"| server CPU per request | 7.20 µs | 8.00 µs | +0.80 µs (+0.80 to +1.00) | ≤ +1.00 µs: met |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("section lacks %q:\n%s", want, b.String())
		}
	}
	r.Servers[1].Samples[2] = sample(80000, 9)
	r.Quick = true
	b.Reset()
	writeWrkSection(&b, r)
	for _, want := range []string{"Quick mode: not a measurement.", "| 83.3% (72.7–92.0%) | ≥ 90%: **missed** |", "| +1.00 µs (+0.80 to +1.80) | ≤ +1.00 µs: met |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("section lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	writeWrkSection(&b, nil)
	if !strings.Contains(b.String(), "Not run: `-wrk-rounds 5`") {
		t.Errorf("section without a run:\n%s", b.String())
	}
}
