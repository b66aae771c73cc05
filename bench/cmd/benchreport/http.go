package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/bench"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/loadgen"
)

// httpAlg is the algorithm of the HTTP comparison's tokens: what most
// identity providers sign access tokens with.
var httpAlg = engine.RS256

// httpUsers is how many distinct valid tokens the load cycles through.
const httpUsers = 1024

// httpConfig configures the HTTP comparison run.
type httpConfig struct {
	duration time.Duration // measured time per target and round
	warmup   time.Duration
	rounds   int
	conns    int
	progress io.Writer
}

// httpTarget is one server the load is sent to.
type httpTarget struct {
	name    string
	url     string
	allow   bool // answers 200 to everything (the ceiling)
	close   func() error
	explain string
}

// httpResult is what one target got over the rounds.
type httpResult struct {
	target  string
	runs    []*loadgen.Result // one per round
	cpu     []float64         // process CPU ns per request, per round
	best    *loadgen.Result   // the run with the most requests/s: the least disturbed
	busy    float64           // cores the process kept busy during the best run
	rps     float64           // median requests/s
	cpuPerR float64           // median process CPU ns per request
}

// runHTTP starts each comparison server on loopback in this process and
// sends each the same mix of tokens, in rounds that alternate the targets so
// that a noisy minute does not land on one of them. The load generator
// shares the process (and the cores) with the servers, as a gateway and its
// auth service share a host; the CPU time per request therefore includes
// the generator's, which is the same for every target and is the ceiling's
// whole cost.
func runHTTP(ctx context.Context, f *bench.Fixture, c httpConfig) ([]*httpResult, []httpTarget, error) {
	valid, err := f.ValidTokens(httpAlg, httpUsers)
	if err != nil {
		return nil, nil, err
	}
	mixFor := func(allow bool) []loadgen.Class {
		reject := http.StatusUnauthorized
		if allow {
			reject = http.StatusOK
		}
		return []loadgen.Class{
			{Name: "valid", Weight: 90, Tokens: valid},
			{Name: "expired", Weight: 4, Tokens: [][]byte{f.CaseToken(httpAlg, "expired")}, Expect: reject},
			{Name: "tampered", Weight: 3, Tokens: [][]byte{f.CaseToken(httpAlg, "tampered-signature")}, Expect: reject},
			{Name: "unknown-kid", Weight: 3, Tokens: [][]byte{f.CaseToken(httpAlg, "unknown-kid")}, Expect: reject},
		}
	}

	targets, err := startTargets(f)
	defer func() {
		for _, t := range targets {
			if cerr := t.close(); cerr != nil {
				fmt.Fprintf(c.progress, "benchreport: closing %s: %v\n", t.name, cerr)
			}
		}
	}()
	if err != nil {
		return nil, nil, err
	}
	results := make([]*httpResult, len(targets))
	for i, t := range targets {
		results[i] = &httpResult{target: t.name}
	}
	for round := 1; round <= c.rounds; round++ {
		for i, t := range targets {
			fmt.Fprintf(c.progress, "benchreport: HTTP round %d/%d on %s (%s): %s warmup, %s measured, %d connections\n",
				round, c.rounds, t.name, t.url, c.warmup, c.duration, c.conns)
			cfg := loadgen.Config{Name: t.name, URL: t.url, Concurrency: c.conns, Mix: mixFor(t.allow)}
			if c.warmup > 0 {
				warm := cfg
				warm.Duration = c.warmup
				if _, err := loadgen.Run(ctx, warm); err != nil {
					return nil, nil, fmt.Errorf("warmup on %s: %w", t.name, err)
				}
			}
			cfg.Duration, cfg.Progress = c.duration, c.progress
			before := processCPU()
			r, err := loadgen.Run(ctx, cfg)
			if err != nil {
				return nil, nil, fmt.Errorf("load on %s: %w", t.name, err)
			}
			spent := processCPU() - before
			if r.Requests == 0 || r.Unexpected > 0 || r.Errors > 0 {
				var text bytes.Buffer
				r.WriteText(&text)
				return nil, nil, fmt.Errorf("load on %s: %d requests, %d unexpected answers, %d errors:\n%s", t.name, r.Requests, r.Unexpected, r.Errors, text.String())
			}
			results[i].runs = append(results[i].runs, r)
			results[i].cpu = append(results[i].cpu, float64(spent)/float64(r.Requests))
		}
	}
	for _, res := range results {
		res.summarize()
	}
	return results, targets, nil
}

// summarize picks the best round and the medians over the rounds.
func (h *httpResult) summarize() {
	rps := make([]float64, len(h.runs))
	for i, r := range h.runs {
		rps[i] = r.RPS
	}
	h.rps = median(rps)
	h.cpuPerR = median(h.cpu)
	best := 0
	for i, r := range h.runs {
		if r.RPS > h.runs[best].RPS {
			best = i
		}
	}
	h.best = h.runs[best]
	if h.best.Elapsed > 0 {
		h.busy = h.cpu[best] * float64(h.best.Requests) / float64(h.best.Elapsed)
	}
}

// startTargets starts the comparison servers. On error, the ones started so
// far are returned for closing.
func startTargets(f *bench.Fixture) ([]httpTarget, error) {
	var targets []httpTarget
	ceiling, err := loadgen.StartCeiling()
	if err != nil {
		return targets, err
	}
	targets = append(targets, httpTarget{
		name: "ceiling", url: ceiling.URL + "/auth", allow: true, close: ceiling.Close,
		explain: "bare fasthttp handler answering 200 to everything: the most any server can do here",
	})
	for _, v := range []struct {
		name, explain string
		cache         int
	}{
		{"jwtgate", "jwtgate's own server (`jwtgate serve`'s forward-auth endpoint) as it ships, verified-token cache on: each user's token is verified once, then answered from the cache", 0},
		{"jwtgate-nocache", "the same with the cache off: every request verifies its signature", -1},
	} {
		jg, err := bench.StartJWTGate(f, v.cache)
		if err != nil {
			return targets, fmt.Errorf("%s: %w", v.name, err)
		}
		targets = append(targets, httpTarget{name: v.name, url: jg.URL + "/auth", close: jg.Close, explain: v.explain})
	}
	h, err := bench.NewGolangJWTHandler(f)
	if err != nil {
		return targets, err
	}
	gj, err := bench.StartHTTP(h)
	if err != nil {
		return targets, err
	}
	targets = append(targets, httpTarget{
		name: "golang-jwt", url: gj.URL + "/auth", close: gj.Close,
		explain: "net/http with golang-jwt v5 and keyfunc v3, the same checks, identity headers on 200: what a Go team would write today",
	})
	return targets, nil
}

// writeHTTPReport writes http.md: how the run was made and the table.
func writeHTTPReport(w io.Writer, results []*httpResult, targets []httpTarget, c httpConfig, info reportInfo) error {
	if len(results) == 0 {
		return errors.New("no HTTP results")
	}
	p := &printer{w: w}
	p.line("# HTTP comparison")
	p.line("")
	if info.quick {
		p.line("> **Quick mode**: a short run to prove the harness works. These numbers are not a measurement.")
		p.line("")
	}
	p.line("Each server runs on 127.0.0.1 in the benchmark's process and gets the same closed-loop load from jwtgate's")
	p.line("load generator (%d connections; %s per round; after %s warmup; %s alternating the servers), which shares the", c.conns, c.duration, c.warmup, plural(c.rounds, "round"))
	p.line("machine's cores with it. The mix, all %s: 90%% valid tokens of %d distinct users, 4%% expired, 3%% with a", httpAlg, httpUsers)
	p.line("tampered signature, 3%% with an unknown kid. Every answer must be the expected one (200, or 401 for the bad")
	p.line("tokens) or the run fails.")
	p.line("")
	for _, t := range targets {
		p.line("- **%s**: %s.", t.name, t.explain)
	}
	p.line("")
	p.line("Other work on a shared machine only ever slows a round down, so the round with the most requests/s is the least")
	p.line("disturbed: **best req/s** and the latencies are that round's; the median is beside it. **CPU/req** is the median")
	p.line("process CPU time per request, load generator included, and barely moves with other work: the ceiling's is the")
	p.line("generator's and a bare server's share, so **checks/req**, the difference to it, is what verifying costs per request.")
	p.line("**cores busy** is the CPU the process used per second of the best round: below the machine's core count, the")
	p.line("round was not limited by CPU alone (other processes held the cores, or client and server waited on each other).")
	p.line("")
	base := results[0]
	p.line("| target | best req/s | vs %s | median req/s | CPU/req | checks/req | cores busy | p50 | p90 | p99 | p99.9 | max |", base.target)
	p.line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		l := r.best.Latency
		checks := "–"
		if r != base {
			checks = formatNs(r.cpuPerR - base.cpuPerR)
		}
		p.line("| %s | %.0f | %.1f%% | %.0f | %s | %s | %.2f | %s | %s | %s | %s | %s |", r.target, r.best.RPS, 100*r.best.RPS/base.best.RPS, r.rps,
			formatNs(r.cpuPerR), checks, r.busy, loadgen.FormatDuration(l.P50), loadgen.FormatDuration(l.P90),
			loadgen.FormatDuration(l.P99), loadgen.FormatDuration(l.P999), loadgen.FormatDuration(l.Max))
	}
	p.line("")
	mc := info.machine
	p.line("Command: `%s`. %s, %d logical cores, %s, %s; load average %s.", info.command, mc.cpu, mc.cores, mc.goVer, mc.date.Format("2006-01-02 15:04 MST"), mc.load)
	p.line("Every round's per-class status counts and latencies: [http.json](http.json).")
	return p.err
}

// marshalHTTP returns every round of every target as JSON.
func marshalHTTP(results []*httpResult) ([]byte, error) {
	type target struct {
		Name            string            `json:"name"`
		MedianRPS       float64           `json:"median_requests_per_second"`
		CPUNsPerRequest float64           `json:"median_cpu_ns_per_request"`
		Rounds          []*loadgen.Result `json:"rounds"`
	}
	out := make([]target, len(results))
	for i, r := range results {
		out[i] = target{r.target, r.rps, r.cpuPerR, r.runs}
	}
	return json.MarshalIndent(out, "", "  ")
}
