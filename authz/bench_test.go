package authz

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/jwtgate/jwtgate/internal/cputime"
)

// BenchmarkDecide measures a request that takes the last route of a table
// of 0, 1, 10 and 50 routes (three conditions each), on a cached token and
// with the cache off (HS256: verification is cheap, the rules show).
// cpu-ns/op is the CPU time of the benchmark's thread per decision, which
// other processes on a busy machine do not inflate as they do ns/op.
func BenchmarkDecide(b *testing.B) {
	for _, cached := range []bool{true, false} {
		for _, n := range []int{0, 1, 10, 50} {
			b.Run(fmt.Sprintf("cached=%v/routes=%d", cached, n), func(b *testing.B) {
				benchDecide(b, n, cached)
			})
		}
	}
}

func benchDecide(b *testing.B, n int, cached bool) {
	cfg, mod := table(n)
	pol := mustCompile(b, cfg)
	f := newFixture(b, cached)
	h := &byteHeaders{}
	h.add("Authorization", "Bearer "+f.token(b, mod))
	path := "/anything"
	if n > 0 {
		path = fmt.Sprintf("/svc-%d/orders/1", n-1)
	}
	r := req("GET", "api.example.com", path, h)
	var st State
	pol.Decide(r, f.v, &st)
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := cputime.Thread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := pol.Decide(r, f.v, &st); !d.Allowed {
			b.Fatal(d.Reason())
		}
	}
	if start >= 0 {
		b.ReportMetric(float64(cputime.Thread()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkCheck measures the route lookup and the rules alone, on a token
// verified before.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			cfg, mod := table(n)
			cfg.Identity.Headers = []IdentityHeader{}
			pol := mustCompile(b, cfg)
			f := newFixture(b, true)
			tok := f.token(b, mod)
			var st State
			if _, err := f.v.Verify([]byte(tok), &st); err != nil {
				b.Fatal(err)
			}
			r := req("GET", "api.example.com", fmt.Sprintf("/svc-%d/orders/1", n-1), nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if d := pol.Check(r, &st.Token, nil, &st); !d.Allowed {
					b.Fatal(d.Reason())
				}
			}
		})
	}
}
