package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// processGoroutines are started once by fasthttp and live as long as the
// process: not leaks.
var processGoroutines = []string{"fasthttp.updateServerDate", "fasthttp.(*TCPDialer).tcpAddrsClean"}

// goroutines returns the number of goroutines other than processGoroutines,
// and their stacks.
func goroutines() (int, string) {
	buf := make([]byte, 1<<20)
	stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
	n := 0
	var kept []string
outer:
	for _, s := range stacks {
		for _, skip := range processGoroutines {
			if strings.Contains(s, skip) {
				continue outer
			}
		}
		n++
		kept = append(kept, s)
	}
	return n, strings.Join(kept, "\n\n")
}

// TestMain runs the tests, then fails if goroutines they started are still
// running shortly after. fasthttp's client connection cleaner and server
// worker-pool cleaner exit up to a second (MaxIdleConnDuration,
// MaxIdleWorkerDuration) after the last run or server ended.
func TestMain(m *testing.M) {
	before, _ := goroutines()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(10 * time.Second)
		for {
			after, stacks := goroutines()
			if after <= before {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "goroutine leak: %d before the tests, %d after\n%s\n", before, after, stacks)
				code = 1
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	os.Exit(code)
}

func startServer(t *testing.T, handler fasthttp.RequestHandler) *Server {
	t.Helper()
	srv, err := Serve(&fasthttp.Server{Handler: handler, MaxIdleWorkerDuration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
	})
	return srv
}

func testMix() []Class {
	return []Class{
		{Name: "valid", Weight: 90, Tokens: [][]byte{[]byte("v1"), []byte("v2")}},
		{Name: "invalid", Weight: 5, Tokens: [][]byte{[]byte("bad")}, Expect: 401},
		{Name: "unknown_kid", Weight: 3, Tokens: [][]byte{[]byte("kid")}, Expect: 401},
		{Name: "expired", Weight: 2, Tokens: [][]byte{[]byte("old")}, Expect: 401},
	}
}

// tokenServer answers 200 for tokens starting with "v", 401 otherwise, and
// counts the Authorization values it saw.
type tokenServer struct {
	mu   sync.Mutex
	seen map[string]int
}

func (s *tokenServer) handle(ctx *fasthttp.RequestCtx) {
	auth := string(ctx.Request.Header.Peek("Authorization"))
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	s.seen[auth]++
	s.mu.Unlock()
	if strings.HasPrefix(auth, "Bearer v") {
		ctx.SetStatusCode(200)
		return
	}
	ctx.SetStatusCode(401)
}

func (s *tokenServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.seen {
		n += c
	}
	return n
}

// checkConsistent asserts that the result's counters add up.
func checkConsistent(t *testing.T, r *Result) {
	t.Helper()
	var classReqs, classErrs, classUnexpected, statusSum uint64
	for _, c := range r.Classes {
		var st uint64
		for _, n := range c.Statuses {
			st += n
		}
		if st+c.Errors != c.Requests {
			t.Errorf("class %s: statuses %d + errors %d != requests %d", c.Name, st, c.Errors, c.Requests)
		}
		if c.Unexpected > st {
			t.Errorf("class %s: %d unexpected of %d answers", c.Name, c.Unexpected, st)
		}
		classReqs += c.Requests
		classErrs += c.Errors
		classUnexpected += c.Unexpected
	}
	for _, n := range r.Statuses {
		statusSum += n
	}
	if classReqs != r.Requests || classErrs != r.Errors || classUnexpected != r.Unexpected {
		t.Errorf("classes add up to %d requests, %d errors, %d unexpected; result says %d, %d, %d",
			classReqs, classErrs, classUnexpected, r.Requests, r.Errors, r.Unexpected)
	}
	if statusSum+r.Errors != r.Requests {
		t.Errorf("statuses %d + errors %d != requests %d", statusSum, r.Errors, r.Requests)
	}
	if r.Latency.Count != r.Requests-r.Errors {
		t.Errorf("latency count %d, want answered requests %d", r.Latency.Count, r.Requests-r.Errors)
	}
	l := r.Latency
	if l.Count > 0 && !(l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency percentiles out of order: %+v", l)
	}
}

func TestRunAgainstCeiling(t *testing.T) {
	t.Parallel()
	ceiling, err := StartCeiling()
	if err != nil {
		t.Fatal(err)
	}
	defer ceiling.Close()
	mix := testMix()
	for i := range mix {
		mix[i].Expect = 0 // the ceiling answers 200 to everything
	}
	const concurrency = 4
	res, err := Run(context.Background(), Config{
		Name: "ceiling", URL: ceiling.URL + "/auth", Concurrency: concurrency,
		Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond, Mix: mix,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, res)
	if res.Requests == 0 || res.Errors != 0 || res.Unexpected != 0 {
		t.Fatalf("requests %d, errors %d (%v), unexpected %d: want >0, 0, 0", res.Requests, res.Errors, res.ErrorSamples, res.Unexpected)
	}
	if res.Statuses[200] != res.Requests {
		t.Errorf("statuses %v, want all %d 200", res.Statuses, res.Requests)
	}
	if res.CPU <= 0 || res.CPUPerRequest() != res.CPU/time.Duration(res.Requests) {
		t.Errorf("process CPU %v, per request %v: want it measured", res.CPU, res.CPUPerRequest())
	}
	if res.RPS <= 0 || res.Elapsed < 300*time.Millisecond {
		t.Errorf("RPS %v over %v: want a positive rate over at least the duration", res.RPS, res.Elapsed)
	}
	// Each worker walks the interleaved cycle: every class gets its share
	// to within two requests per worker.
	for _, c := range res.Classes {
		want := float64(res.Requests) * float64(c.Weight) / 100
		if d := float64(c.Requests) - want; d > 2*concurrency || d < -2*concurrency {
			t.Errorf("class %s: %d requests, want %.0f ± %d", c.Name, c.Requests, want, 2*concurrency)
		}
	}
}

func TestRunRequestCountExactMixAndExpectations(t *testing.T) {
	t.Parallel()
	var ts tokenServer
	srv := startServer(t, ts.handle)
	mix := testMix()
	mix[3].Expect = 200 // the server answers 401 to "old": every expired request is unexpected
	res, err := Run(context.Background(), Config{
		Name: "count", URL: srv.URL + "/auth", Method: "POST", Concurrency: 3, Requests: 1000, Mix: mix,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, res)
	want := map[string]uint64{"valid": 900, "invalid": 50, "unknown_kid": 30, "expired": 20}
	for _, c := range res.Classes {
		if c.Requests != want[c.Name] {
			t.Errorf("class %s: %d requests, want exactly %d", c.Name, c.Requests, want[c.Name])
		}
	}
	if got := ts.total(); got != 1000 || res.Requests != 1000 {
		t.Fatalf("server saw %d requests, result says %d, want 1000", got, res.Requests)
	}
	ts.mu.Lock()
	seen := ts.seen
	ts.mu.Unlock()
	if seen["Bearer v1"]+seen["Bearer v2"] != 900 || seen["Bearer v1"] == 0 || seen["Bearer v2"] == 0 {
		t.Errorf("valid tokens seen %d and %d times: want both used, 900 together", seen["Bearer v1"], seen["Bearer v2"])
	}
	if seen["Bearer bad"] != 50 || seen["Bearer kid"] != 30 || seen["Bearer old"] != 20 {
		t.Errorf("server saw %v", seen)
	}
	if res.Unexpected != 20 || res.Classes[3].Unexpected != 20 {
		t.Errorf("unexpected: %d in all, %d for expired; want 20 and 20", res.Unexpected, res.Classes[3].Unexpected)
	}
	if res.Statuses[200] != 900 || res.Statuses[401] != 100 {
		t.Errorf("statuses %v, want 200:900 401:100", res.Statuses)
	}
	if res.Method != "POST" {
		t.Errorf("method %q, want POST", res.Method)
	}
}

func TestEventChangesTokensMidRun(t *testing.T) {
	t.Parallel()
	var ts tokenServer
	srv := startServer(t, ts.handle)
	calls := 0
	res, err := Run(context.Background(), Config{
		Name: "rotate", URL: srv.URL, Concurrency: 2, Requests: 400,
		Mix: []Class{{Name: "valid", Weight: 1, Tokens: [][]byte{[]byte("v-old")}}},
		Events: []Event{{Name: "rotate", AfterRequests: 200, Do: func(c *Control) {
			calls++
			if err := c.SetTokens("valid", [][]byte{[]byte("v-new")}); err != nil {
				t.Error(err)
			}
			if err := c.SetTokens("nope", nil); err == nil {
				t.Error("SetTokens of an unknown class must fail")
			}
			if err := c.SetExpect("valid", 99); err == nil {
				t.Error("SetExpect(99) must fail")
			}
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, res)
	if calls != 1 || len(res.Events) != 1 || !res.Events[0].Fired {
		t.Fatalf("event ran %d times, result %+v: want once, fired", calls, res.Events)
	}
	ts.mu.Lock()
	old, new := ts.seen["Bearer v-old"], ts.seen["Bearer v-new"]
	ts.mu.Unlock()
	// Requests started before the event use the old token; a worker that
	// claimed a slot just before may send its request after: so at least
	// 199 old ones, and every one from slot 201 on new.
	if old+new != 400 || old < 199 || new < 400-200-1 {
		t.Errorf("old token %d times, new %d: want 400 together, the switch at about 200", old, new)
	}
}

func TestEventNotReachedDoesNotFire(t *testing.T) {
	t.Parallel()
	srv := startServer(t, CeilingHandler)
	res, err := Run(context.Background(), Config{
		Name: "short", URL: srv.URL, Concurrency: 1, Requests: 10,
		Events: []Event{{Name: "late", AfterRequests: 11, Do: func(*Control) { t.Error("event past the end fired") }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].Fired {
		t.Fatalf("events %+v: want one, not fired", res.Events)
	}
	if res.Requests != 10 || res.Classes[0].Name != "default" {
		t.Fatalf("requests %d, class %q: want 10 of class default", res.Requests, res.Classes[0].Name)
	}
}

func TestTimedEventFires(t *testing.T) {
	t.Parallel()
	fired := make(chan struct{})
	// Every request waits for the event, so the run cannot end before it
	// fires, however the scheduler orders the timers.
	srv := startServer(t, func(*fasthttp.RequestCtx) { <-fired })
	res, err := Run(context.Background(), Config{
		Name: "timed", URL: srv.URL, Concurrency: 2, Duration: 100 * time.Millisecond,
		Events: []Event{{Name: "at", At: 50 * time.Millisecond, Do: func(*Control) { close(fired) }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, res)
	if !res.Events[0].Fired || res.Events[0].At < 50*time.Millisecond {
		t.Fatalf("event result %+v: want fired at or after 50ms", res.Events[0])
	}
	if res.Errors != 0 || res.Requests < 2 {
		t.Fatalf("%d requests, %d errors: want the blocked requests answered after the event", res.Requests, res.Errors)
	}
}

func TestConnectionErrorsAreCounted(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res, err := Run(context.Background(), Config{
		Name: "refused", URL: "http://" + addr + "/", Concurrency: 2, Requests: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, res)
	if res.Requests != 50 || res.Errors != 50 || len(res.ErrorSamples) == 0 {
		t.Fatalf("requests %d, errors %d, samples %v: want 50 failed requests with messages", res.Requests, res.Errors, res.ErrorSamples)
	}
}

func TestWorkerStopsAfterConsecutiveErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res, err := Run(context.Background(), Config{
		Name: "refused", URL: "http://" + addr, Concurrency: 1, Duration: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != maxConsecutiveErrors || res.Requests != maxConsecutiveErrors {
		t.Fatalf("errors %d of %d requests, want the worker to give up after %d", res.Errors, res.Requests, maxConsecutiveErrors)
	}
	found := false
	for _, s := range res.ErrorSamples {
		found = found || strings.Contains(s.Message, "consecutive errors")
	}
	if !found {
		t.Fatalf("error samples %v do not say the worker stopped", res.ErrorSamples)
	}
}

func TestTimeoutIsAnError(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := startServer(t, func(ctx *fasthttp.RequestCtx) { <-release })
	t.Cleanup(func() { close(release) }) // before the server closes (cleanups run last-in first-out)
	res, err := Run(context.Background(), Config{
		Name: "slow", URL: srv.URL, Concurrency: 1, Requests: 2, Timeout: 30 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, res)
	if res.Errors != 2 || !strings.Contains(strings.ToLower(res.ErrorSamples[0].Message), "timeout") {
		t.Fatalf("errors %d, samples %v: want 2 timeouts", res.Errors, res.ErrorSamples)
	}
}

func TestCancelStopsRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	n := 0
	srv := startServer(t, func(rc *fasthttp.RequestCtx) {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 100 {
			cancel()
		}
	})
	res, err := Run(ctx, Config{Name: "cancel", URL: srv.URL, Concurrency: 2, Duration: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if res == nil || res.Requests < 100 {
		t.Fatalf("result %v: want the partial result with at least 100 requests", res)
	}
	checkConsistent(t, res)
}

func TestConfigErrors(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:1/", Concurrency: 1, Requests: 1}
	do := func(*Control) {}
	cases := map[string]func(c *Config){
		"scheme":           func(c *Config) { c.URL = "ftp://x/" },
		"no host":          func(c *Config) { c.URL = "http:///path" },
		"bad url":          func(c *Config) { c.URL = "http://[::1" },
		"concurrency 0":    func(c *Config) { c.Concurrency = 0 },
		"concurrency huge": func(c *Config) { c.Concurrency = MaxConcurrency + 1 },
		"both limits":      func(c *Config) { c.Duration = time.Second },
		"no limit":         func(c *Config) { c.Requests = 0 },
		"negative warmup":  func(c *Config) { c.Warmup = -1 },
		"unnamed class":    func(c *Config) { c.Mix = []Class{{Weight: 1}} },
		"zero weight":      func(c *Config) { c.Mix = []Class{{Name: "a"}} },
		"huge weight":      func(c *Config) { c.Mix = []Class{{Name: "a", Weight: MaxWeight}, {Name: "b", Weight: 1}} },
		"duplicate class":  func(c *Config) { c.Mix = []Class{{Name: "a", Weight: 1}, {Name: "a", Weight: 1}} },
		"bad expect":       func(c *Config) { c.Mix = []Class{{Name: "a", Weight: 1, Expect: 42}} },
		"event without do": func(c *Config) { c.Events = []Event{{Name: "e", AfterRequests: 1}} },
		"event both":       func(c *Config) { c.Events = []Event{{Name: "e", AfterRequests: 1, At: 1, Do: do}} },
		"event at in count run": func(c *Config) {
			c.Events = []Event{{Name: "e", At: time.Second, Do: do}}
		},
		"event after the end": func(c *Config) {
			c.Requests, c.Duration = 0, time.Second
			c.Events = []Event{{Name: "e", At: time.Second, Do: do}}
		},
		"event count in duration run": func(c *Config) {
			c.Requests, c.Duration = 0, time.Second
			c.Events = []Event{{Name: "e", AfterRequests: 5, Do: do}}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			mutate(&cfg)
			if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("err %v, want ErrConfig", err)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	mix := []Class{{Name: "a", Weight: 90}, {Name: "b", Weight: 5}, {Name: "c", Weight: 3}, {Name: "d", Weight: 2}}
	s := schedule(mix)
	if len(s) != 100 {
		t.Fatalf("cycle of %d slots, want 100", len(s))
	}
	counts := make([]int, len(mix))
	for i, c := range s {
		counts[c]++
		// Smooth: every prefix holds each class within one of its share.
		for ci, m := range mix {
			share := float64(i+1) * float64(m.Weight) / 100
			if d := float64(counts[ci]) - share; d > 1 || d < -1 {
				t.Fatalf("after %d slots class %s has %d, share %.2f", i+1, m.Name, counts[ci], share)
			}
		}
	}
	if len(schedule([]Class{{Name: "a", Weight: 50}, {Name: "b", Weight: 50}})) != 2 {
		t.Fatal("weights with a common divisor must shrink the cycle")
	}
}

func TestResultReports(t *testing.T) {
	t.Parallel()
	var ts tokenServer
	srv := startServer(t, ts.handle)
	res, err := Run(context.Background(), Config{Name: "jwtgate", URL: srv.URL, Concurrency: 2, Requests: 200, Mix: testMix()})
	if err != nil {
		t.Fatal(err)
	}
	res.CPU = 4000 * time.Duration(res.Requests)
	base := Merge(res)
	base.Name, base.RPS = "ceiling", res.RPS*2
	base.CPU = 1000 * time.Duration(res.Requests) // a quarter of the CPU per request: 25%

	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"jwtgate", "req/s", "p99.9", "unknown_kid", "200:180", "401:10"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var cmp, md bytes.Buffer
	if err := WriteComparison(&cmp, base, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteComparisonMarkdown(&md, base, res); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{cmp.String(), md.String()} {
		if !strings.Contains(out, "100.0%") || !strings.Contains(out, "50.0%") || !strings.Contains(out, "25.0%") || !strings.Contains(out, "CPU vs ceiling") {
			t.Errorf("comparison lacks the ratios to the ceiling:\n%s", out)
		}
	}
	if !strings.HasPrefix(md.String(), "| target |") || strings.Count(md.String(), "\n") != 4 {
		t.Errorf("markdown table malformed:\n%s", md.String())
	}

	data, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	lat := back["latency"].(map[string]any)
	if back["requests"].(float64) != 200 || lat["count"].(float64) != 200 || lat["p99_9_ns"] == nil {
		t.Errorf("JSON lacks counts or percentiles: %s", data)
	}
	if back["statuses"].(map[string]any)["200"].(float64) != 180 {
		t.Errorf("JSON statuses wrong: %s", data)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850:                     "850ns",
		1500:                    "1.50µs",
		85300:                   "85.3µs",
		1234567:                 "1.23ms",
		12345678:                "12.3ms",
		2500 * time.Millisecond: "2.50s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
		}
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	var ts tokenServer
	srv := startServer(t, ts.handle)
	cfg := Config{Name: "jwtgate", URL: srv.URL, Concurrency: 2, Requests: 300, Mix: testMix()}
	var rounds []*Result
	for range 3 {
		r, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		rounds = append(rounds, r)
	}
	m := Merge(rounds...)
	checkConsistent(t, m)
	if m.Requests != 900 || m.Latency.Count != 900 || m.Statuses[200] != 810 || m.Statuses[401] != 90 {
		t.Fatalf("merged: %d requests, %d latencies, statuses %v", m.Requests, m.Latency.Count, m.Statuses)
	}
	if m.CPU != rounds[0].CPU+rounds[1].CPU+rounds[2].CPU {
		t.Fatalf("merged CPU %v, want the rounds' sum", m.CPU)
	}
	if m.Elapsed != rounds[0].Elapsed+rounds[1].Elapsed+rounds[2].Elapsed || m.RPS != float64(900)/m.Elapsed.Seconds() {
		t.Fatalf("merged elapsed %v, RPS %v", m.Elapsed, m.RPS)
	}
	if len(m.Classes) != 4 || m.Classes[0].Name != "valid" || m.Classes[0].Requests != 810 || m.Classes[3].Unexpected != 0 {
		t.Fatalf("merged classes %+v", m.Classes)
	}
	var maxOf time.Duration
	for _, r := range rounds {
		maxOf = max(maxOf, r.Latency.Max)
	}
	if m.Latency.Max != maxOf {
		t.Fatalf("merged max %v, want the largest round max %v", m.Latency.Max, maxOf)
	}
	if Merge() != nil {
		t.Fatal("Merge() must be nil")
	}
}
