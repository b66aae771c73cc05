package server_test

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/jwtgate/jwtgate/engine"

	"github.com/jwtgate/jwtgate/internal/cputime"
)

// BenchmarkAuth measures the /auth handler in process, per algorithm, with
// the token cache warm (cached) and off (uncached), calling the handler
// directly with a reused fasthttp.RequestCtx: what jwtgate's own code costs
// per request, without the network. Run with -benchmem: allocs/op is 0 for
// every cached path and for the uncached HMAC and Ed25519 paths.
func BenchmarkAuth(b *testing.B) {
	for _, alg := range engine.Algorithms() {
		for _, cached := range []bool{true, false} {
			name := alg.String() + "/cached"
			extra := ""
			if !cached {
				name, extra = alg.String()+"/uncached", cacheOff
			}
			b.Run(name, func(b *testing.B) {
				f := newFixture(b, alg, extra)
				ctx := authCtx(f.token(b))
				b.ReportAllocs()
				for b.Loop() {
					ctx.Response.Reset()
					f.h(ctx)
				}
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("status %d", ctx.Response.StatusCode())
				}
			})
		}
	}
}

// BenchmarkAuthParallel is BenchmarkAuth/HS256/cached from every core.
// cpu-ns/op is the CPU time of the whole process per request: with -cpu
// 1,2,4,8 it stays flat when requests on different cores do not contend
// (on shared counters, say), where ns/op also depends on how many cores the
// machine lends the benchmark.
func BenchmarkAuthParallel(b *testing.B) {
	for _, alg := range []engine.Alg{engine.HS256, engine.EdDSA, engine.RS256} {
		b.Run(alg.String()+"/cached", func(b *testing.B) {
			f := newFixture(b, alg, "")
			tok := f.token(b)
			b.ReportAllocs()
			start := cputime.Process()
			defer func() {
				if start >= 0 {
					b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
				}
			}()
			b.RunParallel(func(pb *testing.PB) {
				ctx := authCtx(tok)
				for pb.Next() {
					ctx.Response.Reset()
					f.h(ctx)
				}
				if ctx.Response.StatusCode() != 200 {
					b.Errorf("status %d", ctx.Response.StatusCode())
				}
			})
		})
	}
}

// BenchmarkAuthInmemory measures /auth over HTTP/1.1 through fasthttp's
// in-memory listener: request parsing, the handler and response writing
// on the server, and a fasthttp client on the other side (whose
// allocations, if any, count too).
func BenchmarkAuthInmemory(b *testing.B) {
	for _, alg := range engine.Algorithms() {
		b.Run(alg.String()+"/cached", func(b *testing.B) {
			f := newFixture(b, alg, "")
			ln := fasthttputil.NewInmemoryListener()
			srv := &fasthttp.Server{Handler: f.h, NoDefaultServerHeader: true, NoDefaultContentType: true, ReadBufferSize: 64 << 10}
			go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
			b.Cleanup(func() { srv.Shutdown(); ln.Close() })
			client := &fasthttp.HostClient{Addr: "jwtgate", Dial: func(string) (net.Conn, error) { return ln.Dial() }, ReadTimeout: 5 * time.Second}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://jwtgate/auth")
			req.Header.Set("Authorization", "Bearer "+f.token(b))
			req.Header.Set("X-Forwarded-Uri", "/orders/42?page=1")
			b.ReportAllocs()
			for b.Loop() {
				if err := client.Do(req, resp); err != nil {
					b.Fatal(err)
				}
			}
			if resp.StatusCode() != 200 {
				b.Fatalf("status %d", resp.StatusCode())
			}
		})
	}
}

// BenchmarkAuthRoutes measures /auth (HS256, cached) through route tables
// of 0 to 200 routes with three claim conditions each, the request taking
// the last route: what the route table costs per request, and how it grows
// with the number of routes. Compare routes=0 (no routes) with routes=50.
// cpu-ns/op is the CPU time of the benchmark's thread per request, which
// other processes on a busy machine do not inflate as they do ns/op.
func BenchmarkAuthRoutes(b *testing.B) {
	for _, n := range []int{0, 1, 10, 50, 200} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			table, mod := routeTable(n)
			f := newFixture(b, engine.HS256, table)
			ctx := routeCtx(f.token(b, mod), fmt.Sprintf("/svc-%d/orders/42?page=1", max(n-1, 0)))
			f.h(ctx)
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start := cputime.Thread()
			for b.Loop() {
				ctx.Response.Reset()
				f.h(ctx)
			}
			if start >= 0 {
				b.ReportMetric(float64(cputime.Thread()-start)/float64(b.N), "cpu-ns/op")
			}
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
		})
	}
}
