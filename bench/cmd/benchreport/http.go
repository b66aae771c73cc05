package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
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
	accept  int  // the status of an accepted request; 0 means 200
	close   func() error
	explain string
	// cpu, for a server in its own process, returns the CPU time that
	// process has used so far, in nanoseconds; nil for the servers in this
	// process, which processCPU counts.
	cpu func() (int64, error)
	// keyFetches, for a server fetching its keys from the loopback JWKS
	// endpoint, returns how many times it has so far; nil for the others.
	keyFetches func() int64
}

// httpResult is what one target got over the rounds.
type httpResult struct {
	target  string
	runs    []*loadgen.Result // one per round
	cpu     []float64         // CPU ns per request (generator and server), per round
	mid     *loadgen.Result   // the median round (of an even count, the lower of the middle two)
	busy    float64           // cores the generator and server kept busy during the median round
	rps     float64           // median requests/s
	minRPS  float64           // the slowest round's requests/s
	maxRPS  float64           // the fastest round's requests/s
	cpuPerR float64           // median CPU ns per request
	noCPU   error             // why the CPU figures are unknown (a server process on a system without /proc)
	// With the target's keyFetches: the key set fetches during the
	// measured rounds, and the unknown-kid requests they answered.
	keyFetches, unknownKid uint64
}

// runHTTP starts each comparison server on loopback (in this process, but
// oauth2-proxy in its own) and sends each the same mix of tokens, in rounds
// that alternate the targets so that a noisy minute does not land on one of
// them. The load generator shares the machine's cores with the servers, as
// a gateway and its auth service share a host; the CPU time per request
// therefore includes the generator's, which is the same for every target and
// is the ceiling's whole cost. For a server in its own process, that
// process's CPU time is added, so that every figure is generator plus
// server.
func runHTTP(ctx context.Context, f *bench.Fixture, c httpConfig) ([]*httpResult, []httpTarget, error) {
	valid, err := f.ValidTokens(httpAlg, httpUsers)
	if err != nil {
		return nil, nil, err
	}
	mixFor := func(t httpTarget) []loadgen.Class {
		reject := http.StatusUnauthorized
		if t.allow {
			reject = http.StatusOK
		}
		return []loadgen.Class{
			{Name: "valid", Weight: 90, Tokens: valid, Expect: t.accept},
			{Name: "expired", Weight: 4, Tokens: [][]byte{f.CaseToken(httpAlg, "expired")}, Expect: reject},
			{Name: "tampered", Weight: 3, Tokens: [][]byte{f.CaseToken(httpAlg, "tampered-signature")}, Expect: reject},
			{Name: "unknown-kid", Weight: 3, Tokens: [][]byte{f.CaseToken(httpAlg, "unknown-kid")}, Expect: reject},
		}
	}

	targets, err := startTargets(ctx, f, c.progress)
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
			cfg := loadgen.Config{Name: t.name, URL: t.url, Concurrency: c.conns, Mix: mixFor(t)}
			if c.warmup > 0 {
				warm := cfg
				warm.Duration = c.warmup
				if _, err := loadgen.Run(ctx, warm); err != nil {
					return nil, nil, fmt.Errorf("warmup on %s: %w", t.name, err)
				}
			}
			cfg.Duration, cfg.Progress = c.duration, c.progress
			before, cpuErr := targetCPU(t)
			var fetchesBefore int64
			if t.keyFetches != nil {
				fetchesBefore = t.keyFetches()
			}
			r, err := loadgen.Run(ctx, cfg)
			if err != nil {
				return nil, nil, fmt.Errorf("load on %s: %w", t.name, err)
			}
			after, err := targetCPU(t)
			if cpuErr == nil {
				cpuErr = err
			}
			if r.Requests == 0 || r.Unexpected > 0 || r.Errors > 0 {
				var text bytes.Buffer
				r.WriteText(&text)
				return nil, nil, fmt.Errorf("load on %s: %d requests, %d unexpected answers, %d errors:\n%s", t.name, r.Requests, r.Unexpected, r.Errors, text.String())
			}
			if t.keyFetches != nil {
				results[i].keyFetches += uint64(t.keyFetches() - fetchesBefore)
				for _, class := range r.Classes {
					if class.Name == "unknown-kid" {
						results[i].unknownKid += class.Requests
					}
				}
			}
			results[i].runs = append(results[i].runs, r)
			if cpuErr != nil {
				// Requests/s and latencies still compare; the report says
				// why this row has no CPU figures.
				results[i].noCPU = cpuErr
				continue
			}
			results[i].cpu = append(results[i].cpu, float64(after-before)/float64(r.Requests))
		}
	}
	for _, res := range results {
		res.summarize()
	}
	return results, targets, nil
}

// targetCPU is the CPU time, in nanoseconds, spent so far by this process
// (the load generator, and the in-process servers) and by t's own process
// if it has one.
func targetCPU(t httpTarget) (int64, error) {
	ns := processCPU()
	if t.cpu != nil {
		own, err := t.cpu()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t.name, err)
		}
		ns += own
	}
	return ns, nil
}

// summarize takes the medians over the rounds, the range of requests/s, and
// the median round, whose latencies the report shows.
func (h *httpResult) summarize() {
	if len(h.runs) == 0 {
		return
	}
	order := make([]int, len(h.runs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(h.runs[a].RPS, h.runs[b].RPS) })
	rps := make([]float64, len(h.runs))
	for i, r := range h.runs {
		rps[i] = r.RPS
	}
	h.rps = median(rps)
	h.minRPS, h.maxRPS = slices.Min(rps), slices.Max(rps)
	mid := order[(len(order)-1)/2]
	h.mid = h.runs[mid]
	if h.noCPU != nil || len(h.cpu) != len(h.runs) {
		h.cpu, h.cpuPerR, h.busy = nil, 0, 0
		if h.noCPU == nil {
			h.noCPU = errors.New("CPU time measured in some rounds only")
		}
		return
	}
	h.cpuPerR = median(h.cpu)
	if h.mid.Elapsed > 0 {
		h.busy = h.cpu[mid] * float64(h.mid.Requests) / float64(h.mid.Elapsed)
	}
}

// startTargets starts the comparison servers, building oauth2-proxy first
// if it is not in the cache yet (its build output goes to progress), and
// checks that oauth2-proxy verifies before anything is timed. On error, the
// ones started so far are returned for closing.
func startTargets(ctx context.Context, f *bench.Fixture, progress io.Writer) ([]httpTarget, error) {
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
	bin, err := bench.OAuth2ProxyBinary(ctx, progress)
	if err != nil {
		return targets, err
	}
	op, err := bench.StartOAuth2Proxy(f, bin, httpAlg)
	if err != nil {
		return targets, err
	}
	targets = append(targets, httpTarget{
		name: "oauth2-proxy", url: op.AuthURL, accept: http.StatusAccepted, close: op.Close, cpu: op.CPU, keyFetches: op.JWKSFetches,
		explain: "oauth2-proxy " + bench.OAuth2ProxyVersion + ", the forward-auth server operators deploy for bearer JWTs, in its own process: " +
			"`--skip-jwt-bearer-tokens`, an OIDC provider for the same issuer (`--skip-oidc-discovery`, `--oidc-jwks-url` at a loopback JWKS " +
			"of the same public keys), `--client-id` the same audience, `--oidc-enabled-signing-alg=" + httpAlg.String() + "`, `--set-xauthrequest` " +
			"(the subject in X-Auth-Request-User), logging off; its endpoint `" + bench.OAuth2ProxyAuthPath + "` answers 202 or 401",
	})
	if err := bench.CheckOAuth2Proxy(f, httpAlg, op.AuthURL); err != nil {
		return targets, err
	}
	return targets, nil
}

// writeHTTPReport writes http.md: how the run was made, the ratios of
// jwtgate to oauth2-proxy, and the table of medians.
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
	p.line("Each server runs on 127.0.0.1 (in the benchmark's process, but oauth2-proxy in its own, as it is deployed) and gets")
	p.line("the same closed-loop load from jwtgate's load generator (%d connections; %s per round; after %s warmup; %s", c.conns, c.duration, c.warmup, plural(c.rounds, "round"))
	p.line("alternating the servers), which shares the machine's cores with them. The mix, all %s: 90%% valid tokens of %d", httpAlg, httpUsers)
	p.line("distinct users, 4%% expired, 3%% with a tampered signature, 3%% with an unknown kid. Every answer must be the expected")
	p.line("one (200, 202 for oauth2-proxy's accepted requests, 401 for the bad tokens) or the run fails.")
	p.line("")
	for _, t := range targets {
		p.line("- **%s**: %s.", t.name, t.explain)
	}
	p.line("")
	p.line("Before anything is timed, oauth2-proxy is sent every %s case the libraries are checked with (`go test` in bench/", httpAlg)
	p.line("checks the same) and must answer 202 with the subject for the valid token and 401 for every hostile one, except")
	p.line("%s, which it accepts: go-oidc, its verifier, does not check `iat`. None of those is in the timed mix.", strings.Join(bench.OAuth2ProxyAccepts, ", "))
	p.line("")
	for _, r := range results {
		if r.unknownKid > 0 {
			p.line("During the measured rounds, %s fetched the key set %d times for %d unknown-kid requests: go-oidc fetches it again", r.target, r.keyFetches, r.unknownKid)
			p.line("whenever a token's kid is unknown (misses at the same moment share one fetch), with no cooldown; jwtgate's key store")
			p.line("refetches at most once per cooldown and answers the others 401 at once. In production each fetch is a request to the")
			p.line("identity provider; here the loopback JWKS endpoint answers it in the benchmark's process, whose CPU time is in")
			p.line("%s's CPU/req.", r.target)
			p.line("")
		}
	}
	if line := headline(results); line != "" {
		p.line("%s", line)
		p.line("")
	}
	p.line("![median requests/s of each server with the range over the rounds](http.svg)")
	p.line("")
	p.line("**median req/s** over the rounds is the headline; **range** is the slowest and the fastest round (other work on a")
	p.line("shared machine only ever slows a round down). **CPU/req** is the median CPU time per request of the load generator and")
	p.line("the server together: the benchmark process's (getrusage), plus, for oauth2-proxy, its own process's (utime + stime from")
	p.line("/proc/PID/stat, 10 ms resolution), so every row counts the same things. It barely moves with other work. The ceiling's")
	p.line("is the generator's and a bare server's share, so **checks/req**, the difference to it, is what authenticating costs per")
	p.line("request. **cores busy** is the CPU used per second of the median round: below the machine's core count, the round was")
	p.line("not limited by CPU alone (other processes held the cores, or client and server waited on each other). The latencies are")
	p.line("the median round's.")
	p.line("")
	base := results[0]
	p.line("| target | median req/s | range req/s | vs %s | CPU/req | checks/req | cores busy | p50 | p90 | p99 | p99.9 | max |", base.target)
	p.line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		l := r.mid.Latency
		cpu, checks, busy := "–", "–", "–"
		if r.noCPU == nil {
			cpu, busy = formatNs(r.cpuPerR), fmt.Sprintf("%.2f", r.busy)
			if r != base && base.noCPU == nil {
				checks = formatNs(r.cpuPerR - base.cpuPerR)
			}
		}
		name := r.target
		if strings.HasPrefix(name, "jwtgate") {
			name = "**" + name + "**"
		}
		p.line("| %s | %.0f | %.0f–%.0f | %.1f%% | %s | %s | %s | %s | %s | %s | %s | %s |", name, r.rps, r.minRPS, r.maxRPS, 100*r.rps/base.rps,
			cpu, checks, busy, loadgen.FormatDuration(l.P50), loadgen.FormatDuration(l.P90),
			loadgen.FormatDuration(l.P99), loadgen.FormatDuration(l.P999), loadgen.FormatDuration(l.Max))
	}
	p.line("")
	for _, r := range results {
		if r.noCPU != nil {
			p.line("No CPU figures for %s: %v.", r.target, r.noCPU)
			p.line("")
		}
	}
	mc := info.machine
	p.line("Command: `%s`. %s, %d logical cores, %s, %s; load average %s.", info.command, mc.cpu, mc.cores, mc.goVer, mc.date.Format("2006-01-02 15:04 MST"), mc.load)
	p.line("Every round's per-class status counts, latencies and CPU time: [http.json](http.json).")
	return p.err
}

// headline states jwtgate's requests/s and CPU per request as multiples of
// oauth2-proxy's (medians of the same run), with the cache and without; ""
// when either was not measured.
func headline(results []*httpResult) string {
	find := func(name string) *httpResult {
		for _, r := range results {
			if r.target == name {
				return r
			}
		}
		return nil
	}
	peer, base := find("oauth2-proxy"), results[0]
	if peer == nil || peer.rps == 0 {
		return ""
	}
	var parts []string
	for _, name := range []string{"jwtgate", "jwtgate-nocache"} {
		r := find(name)
		if r == nil {
			continue
		}
		if r.noCPU != nil || peer.noCPU != nil || peer.cpuPerR == 0 {
			parts = append(parts, fmt.Sprintf("**%s serves %s oauth2-proxy's requests per second**", name, ratio(r.rps, peer.rps, true)))
			continue
		}
		part := fmt.Sprintf("**%s serves %s oauth2-proxy's requests per second at %s its CPU per request**", name,
			ratio(r.rps, peer.rps, true), ratio(r.cpuPerR, peer.cpuPerR, true))
		if peerChecks := peer.cpuPerR - base.cpuPerR; r != base && base.noCPU == nil && peerChecks > 0 {
			part += fmt.Sprintf(" (%s its checks/req)", ratio(r.cpuPerR-base.cpuPerR, peerChecks, true))
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return ""
	}
	return "jwtgate ÷ oauth2-proxy, medians of this run: " + strings.Join(parts, "; ") + "."
}

// marshalHTTP returns every round of every target as JSON.
func marshalHTTP(results []*httpResult) ([]byte, error) {
	type target struct {
		Name            string            `json:"name"`
		MedianRPS       float64           `json:"median_requests_per_second"`
		MinRPS          float64           `json:"min_requests_per_second"`
		MaxRPS          float64           `json:"max_requests_per_second"`
		CPUNsPerRequest float64           `json:"median_cpu_ns_per_request"`
		CPUNsPerRound   []float64         `json:"cpu_ns_per_request_per_round"`
		KeyFetches      *uint64           `json:"jwks_fetches,omitempty"`
		Rounds          []*loadgen.Result `json:"rounds"`
	}
	out := make([]target, len(results))
	for i, r := range results {
		out[i] = target{r.target, r.rps, r.minRPS, r.maxRPS, r.cpuPerR, r.cpu, nil, r.runs}
		if r.unknownKid > 0 {
			out[i].KeyFetches = &r.keyFetches
		}
	}
	return json.MarshalIndent(out, "", "  ")
}
