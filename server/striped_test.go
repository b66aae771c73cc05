package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/internal/ticks"
	"github.com/jwtgate/jwtgate/server/config"
)

// TestStripedCountsExact: adds from many goroutines at once, each on a
// stack of its own (so on different shards), are all counted: the counter,
// every histogram bucket, the sum, and the counter the page shows.
func TestStripedCountsExact(t *testing.T) {
	m := newServerMetrics()
	m.verify.init(latencyBounds, ticks.Clock{}) // ticks are nanoseconds: sums compare exactly
	c := m.stripedCounter(requestsName(endpointAuth, 200, "ok"))
	if c != m.authOK {
		t.Fatal("the same sample name gave another striped counter")
	}
	const goroutines, each = 16, 1000
	durations := []time.Duration{50, 100, 101, 3 * time.Microsecond, 10 * time.Second}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var deep func(n int)
			deep = func(n int) { // vary the stack depth, and so the shard
				if n > 0 {
					deep(n - 1)
					return
				}
				for i := 0; i < each; i++ {
					c.Inc()
					m.verify.observe(int64(durations[i%len(durations)]), shard())
				}
			}
			deep(g * 50)
		}()
	}
	wg.Wait()
	if got := c.Load(); got != goroutines*each {
		t.Errorf("counter: %d, want %d", got, goroutines*each)
	}
	used := 0
	for i := range c.shards {
		if c.shards[i].n.Load() != 0 {
			used++
		}
	}
	if used < 2 {
		t.Errorf("%d goroutines added to %d of %d shards: the shard hint does not spread them", goroutines, used, len(c.shards))
	}
	var sum time.Duration
	for _, d := range durations {
		sum += d
	}
	sum *= goroutines * each / time.Duration(len(durations))
	if got := m.verify.sum(); got != sum {
		t.Errorf("sum: %v, want %v", got, sum)
	}
	per := uint64(goroutines * each / len(durations))
	want := map[int]uint64{}
	for _, d := range durations {
		i := 0
		for i < len(m.verify.bounds) && d > m.verify.bounds[i] {
			i++
		}
		want[i] += per
	}
	for i := 0; i <= len(m.verify.bounds); i++ {
		if got := m.verify.count(i); got != want[i] {
			t.Errorf("bucket %d: %d, want %d", i, got, want[i])
		}
	}
	var page bytes.Buffer
	m.writeMetrics(&page)
	for _, line := range []string{
		fmt.Sprintf(`jwtgate_requests_total{endpoint="auth",outcome="allow",reason="ok"} %d`, goroutines*each),
		fmt.Sprintf(`jwtgate_verify_duration_seconds_bucket{le="1e-07"} %d`, 2*per),
		fmt.Sprintf(`jwtgate_verify_duration_seconds_bucket{le="+Inf"} %d`, goroutines*each),
		fmt.Sprintf(`jwtgate_verify_duration_seconds_count %d`, goroutines*each),
	} {
		if !strings.Contains(page.String(), line+"\n") {
			t.Errorf("the page lacks %q", line)
		}
	}
}

// TestNewShardInTurn: the shards of pooled objects are handed out in turn,
// so the first objects — one per processor — count on distinct lines.
func TestNewShardInTurn(t *testing.T) {
	const calls = 64
	prev, inTurn := newShard(), 0
	for range calls {
		s := newShard()
		if s < 0 || s >= numShards {
			t.Fatalf("newShard() = %d, want one of [0, %d)", s, numShards)
		}
		if s == (prev+1)%numShards {
			inTurn++
		}
		prev = s
	}
	// Another goroutine taking a shard meanwhile breaks the turn once.
	if inTurn < calls-4 {
		t.Errorf("%d of %d shards followed their predecessor: want them in turn", inTurn, calls)
	}
}

// TestRequestCountsOnExchangeShard: an allowed /auth and /verify count, and
// time their verification, on the shard of the request's exchange, whatever
// the goroutine: the exchange, pooled per processor, is what keeps the
// counting core-local.
func TestRequestCountsOnExchangeShard(t *testing.T) {
	srv, tok := newHS256Server(t, Options{})
	g := srv.Acquire()
	defer g.Release()
	m := g.h.metrics
	for _, target := range []string{"/auth", "/verify"} {
		for s := range numShards {
			ctx := new(fasthttp.RequestCtx)
			ctx.Request.Header.SetRequestURI(target)
			if target == "/verify" {
				ctx.Request.Header.SetMethod("POST")
				ctx.Request.SetBodyString(tok)
			} else {
				ctx.Request.Header.Set("Authorization", "Bearer "+tok)
			}
			ok := m.authOK
			if target == "/verify" {
				ok = m.verifyOK
			}
			before, timedBefore := ok.shards[s].n.Load(), m.verify.words[s*m.verify.stride+len(m.verify.bounds)+1].Load()
			g.h.serve(ctx, &exchange{shard: s})
			if ctx.Response.StatusCode() != 200 {
				t.Fatalf("%s: status %d: %s", target, ctx.Response.StatusCode(), ctx.Response.Body())
			}
			if got := ok.shards[s].n.Load() - before; got != 1 {
				t.Errorf("%s on an exchange of shard %d: that shard counted %d allowed requests, want 1", target, s, got)
			}
			if m.verify.words[s*m.verify.stride+len(m.verify.bounds)+1].Load() == timedBefore {
				t.Errorf("%s on an exchange of shard %d: its verification was not timed on that shard", target, s)
			}
		}
	}
}

// newHS256Server returns a started server trusting one HS256 key for
// issuer https://issuer.test, audience api, and a token valid for an hour.
func newHS256Server(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	key := sign.MustGenerate(engine.HS256, "k1")
	cfg := &config.Config{Issuers: []config.Issuer{{
		Issuer: "https://issuer.test", Audiences: []string{"api"}, InlineJWKS: sign.JWKS(key),
	}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	tok, err := key.Sign(map[string]any{"iss": "https://issuer.test", "aud": "api", "sub": "u1", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return srv, tok
}

// TestVerifyAtArrivalTime: on the system clock, /auth and /verify judge a
// token at its request's arrival time (RequestCtx.Time, which fasthttp
// reads for every request) instead of reading the clock again; on a clock
// of the caller's, at that clock's time; and a request context without an
// arrival time (a handler called outside a fasthttp.Server) at the clock's.
func TestVerifyAtArrivalTime(t *testing.T) {
	srv, tok := newHS256Server(t, Options{})
	g := srv.Acquire()
	defer g.Release()
	if !g.h.arrivalTime {
		t.Fatal("a server on the system clock does not judge at the arrival time")
	}
	x := &exchange{}
	var ctx fasthttp.RequestCtx // no arrival time: the clock's
	tv := x.timedVerifier(g.h, &ctx)
	if !tv.now.IsZero() {
		t.Fatalf("a context without an arrival time gave %v", tv.now)
	}
	if _, err := tv.Verify([]byte(tok), &x.st); err != nil {
		t.Fatalf("at the clock's time: %v", err)
	}
	tv.now = time.Now().Add(2 * time.Hour) // as if the request had arrived then
	if _, err := tv.Verify([]byte(tok), &x.st); !errors.Is(err, engine.ErrExpired) {
		t.Fatalf("arrived two hours on: %v, want %v", err, engine.ErrExpired)
	}

	for _, c := range []struct {
		clock engine.Clock
		want  bool
	}{{engine.SystemClock, true}, {clocktest.New(time.Now()), false}} {
		srv, _ := newHS256Server(t, Options{Clock: c.clock})
		g := srv.Acquire()
		if g.h.arrivalTime != c.want {
			t.Errorf("Options.Clock %T: judged at the arrival time: %v, want %v", c.clock, g.h.arrivalTime, c.want)
		}
		g.Release()
	}
}

// TestLatencyHistogramInCounterTicks checks the histogram the server uses
// (ticks of the time-stamp counter where there is one): a duration lands
// in the bucket its length says, and the page shows the sum in seconds.
func TestLatencyHistogramInCounterTicks(t *testing.T) {
	m := newServerMetrics()
	clock := m.verify.clock
	if clock != ticks.Counter() {
		t.Fatal("the verify histogram does not use the process's counter clock")
	}
	durations := []time.Duration{90, 240 * time.Nanosecond, 260 * time.Nanosecond, 3 * time.Microsecond, 40 * time.Millisecond, 7 * time.Second}
	want := map[int]uint64{}
	var sum time.Duration
	for _, d := range durations {
		m.verify.observe(clock.Ticks(d), 0)
		i := 0
		for i < len(latencyBounds) && d > latencyBounds[i] {
			i++
		}
		want[i]++
		sum += d
	}
	for i := 0; i <= len(latencyBounds); i++ {
		if got := m.verify.count(i); got != want[i] {
			t.Errorf("bucket %d (le %v): %d, want %d", i, latencyBounds[min(i, len(latencyBounds)-1)], got, want[i])
		}
	}
	if got := m.verify.sum(); got-sum > 10 || sum-got > 10 {
		t.Errorf("sum %v, want %v", got, sum)
	}
	var page bytes.Buffer
	m.writeMetrics(&page)
	if line := fmt.Sprintf("jwtgate_verify_duration_seconds_bucket{le=\"2.5e-07\"} %d\n", want[0]+want[1]); !strings.Contains(page.String(), line) {
		t.Errorf("the page lacks %q", line)
	}
}
