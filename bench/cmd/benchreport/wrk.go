package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jwtgate/jwtgate/bench"
)

// The wrk comparison (bench.RunWrk) in benchreport: wrk.md and wrk.json in
// the results folder, and RESULTS.md's last section, jwtgate serve against
// the bare fasthttp server as separate processes.

// wrkConfig is the wrk comparison's part of benchreport's flags.
type wrkConfig struct {
	rounds   int // 0 skips the comparison
	duration time.Duration
}

// runWrk runs the wrk comparison into out's wrk.md and wrk.json and returns
// its result; with no rounds it returns the result wrk.json holds from an
// earlier run, or nil if there is none. In quick mode it runs one round of a
// second.
func runWrk(dir, out string, c wrkConfig, quick bool, command string) (*bench.WrkResult, error) {
	if c.rounds == 0 {
		return loadEarlier[bench.WrkResult](filepath.Join(out, "wrk.json"))
	}
	if quick {
		c = wrkConfig{rounds: 1, duration: time.Second}
	}
	r, err := bench.RunWrk(bench.WrkConfig{
		Dir: dir, Rounds: c.rounds, Duration: c.duration, Warmup: time.Second,
		Threads: bench.WrkThreads, Conns: bench.WrkConns, Users: bench.WrkUsers,
		Quick: quick, Progress: os.Stderr,
	})
	if err != nil {
		return nil, err
	}
	var md bytes.Buffer
	if err := bench.WriteWrkReport(&md, r, command); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "wrk.md"), md.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "wrk.json"), append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "benchreport: wrk comparison: %s\nbenchreport: wrote wrk.md and wrk.json in %s\n", r.Summary(), out)
	return r, nil
}

// writeWrkSection writes RESULTS.md's section on the wrk comparison: the
// medians of both servers and the verdict against the targets, or, when it
// did not run (nil), how to run it.
func writeWrkSection(w io.Writer, r *bench.WrkResult) {
	p := &printer{w: w}
	p.line("")
	p.line("## `jwtgate serve` against the bare fasthttp server, separate processes (wrk)")
	p.line("")
	if r == nil || len(r.Servers) != 2 || len(r.Servers[0].Samples) == 0 {
		p.line("Not run: `-wrk-rounds 5` runs it (needs wrk on Linux; `make bench-wrk` runs it alone).")
		return
	}
	quick := ""
	if r.Quick {
		quick = " Quick mode: not a measurement."
	}
	p.line("jwtgate's server and the ceiling (a bare fasthttp handler answering 200) each in a")
	p.line("process of its own, wrk (`-t%d -c%d`, %d distinct %s tokens, all in jwtgate's token cache) driving them in turn for %s",
		r.Threads, r.Conns, r.Users, r.Alg, plural(r.Rounds, "round"))
	p.line("of %s; CPU per request is each server process's own, from /proc, without wrk's. Load average %s.%s Every round:", r.Duration, r.Load, quick)
	p.line("[wrk.md](wrk.md).")
	p.line("")
	shareMet, cpuMet := r.Verdict()
	share, extra := r.Compare()
	cRPS, cCPU, _ := r.Medians(0)
	gRPS, gCPU, _ := r.Medians(1)
	p.line("| median of %s | ceiling | jwtgate | jwtgate against the ceiling (range) | target |", plural(r.Rounds, "round"))
	p.line("|---|---:|---:|---:|---|")
	p.line("| requests/s | %.0f | %.0f | %.1f%% (%.1f–%.1f%%) | ≥ %.0f%%: %s |", cRPS, gRPS,
		100*share.Median, 100*share.Min, 100*share.Max, 100*bench.WrkTargetShare, metOrMissed(shareMet))
	p.line("| server CPU per request | %.2f µs | %.2f µs | %+.2f µs (%+.2f to %+.2f) | ≤ %+.2f µs: %s |", cCPU/1e3, gCPU/1e3,
		extra.Median/1e3, extra.Min/1e3, extra.Max/1e3, float64(bench.WrkTargetExtraCPU)/1e3, metOrMissed(cpuMet))
}

func metOrMissed(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}
