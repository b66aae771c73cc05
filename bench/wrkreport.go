package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Medians returns, for server i of r.Servers, the medians over the rounds
// of its requests/s, CPU time per request (ns) and p99 latency (ns).
func (r *WrkResult) Medians(i int) (rps, cpuPerRequest, p99 float64) {
	s := r.Servers[i].Samples
	return ratioOf(wrkColumn(s, func(x WrkSample) float64 { return x.RPS })).Median,
		ratioOf(wrkColumn(s, WrkSample.CPUPerRequest)).Median,
		ratioOf(wrkColumn(s, func(x WrkSample) float64 { return float64(x.P99) })).Median
}

// wrkColumn returns f of every sample.
func wrkColumn(s []WrkSample, f func(WrkSample) float64) []float64 {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	return v
}

// Summary states the medians against the targets in one sentence.
func (r *WrkResult) Summary() string {
	share, extra := r.Compare()
	shareMet, cpuMet := r.Verdict()
	_, ceilCPU, _ := r.Medians(0)
	_, gateCPU, _ := r.Medians(1)
	return fmt.Sprintf("jwtgate served %.1f%% of the ceiling's requests/s (target ≥ %.0f%%: %s) and its CPU per request was the ceiling's %+.2f µs (%.2f µs against %.2f µs; target ≤ %+.2f µs: %s)",
		100*share.Median, 100*WrkTargetShare, metOrMissed(shareMet),
		extra.Median/1e3, gateCPU/1e3, ceilCPU/1e3, float64(WrkTargetExtraCPU)/1e3, metOrMissed(cpuMet))
}

func metOrMissed(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

// WriteWrkReport writes the comparison as Markdown: how it was made, a row
// per round and the medians, then the verdict against the targets.
// command, when not empty, is the command that made it.
func WriteWrkReport(w io.Writer, r *WrkResult, command string) error {
	if len(r.Servers) != 2 || len(r.Servers[0].Samples) == 0 || len(r.Servers[0].Samples) != len(r.Servers[1].Samples) {
		return errors.New("wrk comparison: no complete round measured")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# `jwtgate serve` against the bare fasthttp server: separate processes under wrk\n\n")
	if r.Quick {
		fmt.Fprintf(&b, "> **Quick mode**: a short run to prove the harness works. These numbers are not a measurement.\n\n")
	}
	fmt.Fprintf(&b, "%s, %d CPUs, %s, %s, %s; load average (1 min) %s.", r.Date.Format("2006-01-02 15:04 MST"), r.CPUs, r.Platform, r.GoVersion, r.WrkVersion, r.Load)
	fmt.Fprintf(&b, " Both servers run as processes of their own on 127.0.0.1: `jwtgate serve --jwks-file F --issuer I --audience A`"+
		" with its defaults (verified-token cache on), and the ceiling (`bench/cmd/ceiling`: `jwtgate bench http`'s bare fasthttp"+
		" server, answering 200 to everything). wrk, a third process, drives each in turn with `wrk -t%d -c%d -d%s --latency --timeout %s"+
		" -s tokens.lua URL/auth`: the script sends %d distinct valid %s tokens in turn as bearer tokens, each of which jwtgate"+
		" verified before the rounds, so that it answers from its token cache. ",
		r.Threads, r.Conns, wrkSeconds(r.Duration), wrkSeconds(wrkTimeout), r.Users, r.Alg)
	if r.Warmup > 0 {
		fmt.Fprintf(&b, "Each server is warmed up for %s, then ", r.Warmup)
	}
	fmt.Fprintf(&b, "%s alternate which server goes first. ", plural(r.Rounds, "round"))
	fmt.Fprintf(&b, "Before timing, jwtgate answered 200 with %s for every token, 401 for a corrupted signature and for no token;"+
		" while timed, every answer must be 2xx with no socket error, or the run fails. **CPU/req** is the server process's"+
		" user + system time from /proc/PID/stat (10 ms resolution) over the run divided by wrk's request count: the server's"+
		" alone, not wrk's.", HeaderSubject)
	if command != "" {
		fmt.Fprintf(&b, " Made by `%s`.", command)
	}
	fmt.Fprintf(&b, "\n\nTargets: jwtgate serves at least %.0f%% of the ceiling's requests/s and spends at most %.2f µs more CPU per request.\n\n",
		100*WrkTargetShare, float64(WrkTargetExtraCPU)/1e3)
	fmt.Fprintf(&b, "| round | ceiling req/s | jwtgate req/s | jwtgate ÷ ceiling | ceiling CPU/req | jwtgate CPU/req | jwtgate − ceiling | ceiling p99 | jwtgate p99 |\n")
	fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	c, g := r.Servers[0].Samples, r.Servers[1].Samples
	for i := range c {
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %.1f%% | %.2f µs | %.2f µs | %+.2f µs | %s | %s |\n", i+1,
			c[i].RPS, g[i].RPS, 100*g[i].RPS/max(c[i].RPS, 1e-9),
			c[i].CPUPerRequest()/1e3, g[i].CPUPerRequest()/1e3, (g[i].CPUPerRequest()-c[i].CPUPerRequest())/1e3,
			roundLatency(c[i].P99), roundLatency(g[i].P99))
	}
	share, extra := r.Compare()
	cRPS, cCPU, cP99 := r.Medians(0)
	gRPS, gCPU, gP99 := r.Medians(1)
	fmt.Fprintf(&b, "| **median** | %.0f | %.0f | **%.1f%%** (%.1f–%.1f%%) | %.2f µs | %.2f µs | **%+.2f µs** (%+.2f to %+.2f) | %s | %s |\n",
		cRPS, gRPS, 100*share.Median, 100*share.Min, 100*share.Max, cCPU/1e3, gCPU/1e3,
		extra.Median/1e3, extra.Min/1e3, extra.Max/1e3, roundLatency(time.Duration(cP99)), roundLatency(time.Duration(gP99)))
	fmt.Fprintf(&b, "\nThe ratio and the difference are taken round by round (each round's two runs), then their median; the other medians are each column's.\n\n")
	fmt.Fprintf(&b, "**Verdict**: %s.\n", r.Summary())
	_, err := w.Write(b.Bytes())
	return err
}

// roundLatency prints a latency with three significant digits or so.
func roundLatency(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

// plural returns "1 round" or "5 rounds".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
