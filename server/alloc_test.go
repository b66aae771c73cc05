package server_test

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
)

// authCtx returns a reusable request context for GET /auth with tok.
func authCtx(tok string, headers ...string) *fasthttp.RequestCtx {
	ctx := new(fasthttp.RequestCtx)
	ctx.Request.Header.SetMethod("GET")
	ctx.Request.SetRequestURI("/auth")
	ctx.Request.Header.Set("Authorization", "Bearer "+tok)
	ctx.Request.Header.Set("X-Forwarded-Uri", "/orders/42?page=1")
	ctx.Request.Header.Set("X-Forwarded-Method", "GET")
	ctx.Request.Header.Set("Host", "auth.internal")
	return ctx
}

// cacheOff is the configuration that turns the verified-token cache off.
const cacheOff = "cache:\n  entries: 0\n"

// TestAuthZeroAllocs asserts that /auth on a valid token allocates
// nothing: cached for every algorithm, uncached where the algorithm's own
// crypto allocates nothing (HMAC, Ed25519).
func TestAuthZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are checked without -race: the race detector makes sync.Pool drop items on purpose")
	}
	type tc struct {
		alg    engine.Alg
		cached bool
		exact  bool // assert 0; otherwise only report
	}
	var cases []tc
	for _, alg := range engine.Algorithms() {
		cases = append(cases, tc{alg, true, true})
		cases = append(cases, tc{alg, false, alg.Family() == engine.FamilyHMAC || alg == engine.EdDSA})
	}
	for _, c := range cases {
		name := c.alg.String() + "/uncached"
		extra := cacheOff + "rules:\n  - path: /admin\n    scopes: [admin]\n"
		if c.cached {
			name = c.alg.String() + "/cached"
			extra = "rules:\n  - path: /admin\n    scopes: [admin]\n"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, c.alg, extra)
			ctx := authCtx(f.token(t))
			runs := 200
			if !c.exact {
				runs = 20 // slow algorithms, reported only
			}
			allocs := testing.AllocsPerRun(runs, func() {
				ctx.Response.Reset()
				f.h(ctx)
				if ctx.Response.StatusCode() != 200 {
					t.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			})
			if c.exact && allocs != 0 {
				t.Errorf("%s: %v allocs per /auth, want 0", name, allocs)
			} else {
				t.Logf("%s: %v allocs per /auth", name, allocs)
			}
		})
	}
}

// TestAuthDenialZeroAllocs: refusing a token (after the reason's
// counter exists) allocates nothing either, so a flood of bad tokens costs
// no garbage.
func TestAuthDenialZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are checked without -race: the race detector makes sync.Pool drop items on purpose")
	}
	f := newFixture(t, engine.HS256, "")
	for name, ctx := range map[string]*fasthttp.RequestCtx{
		"malformed": authCtx("x.y.z"),
		"expired":   authCtx(f.token(t, func(c map[string]any) { c["exp"] = epoch.Unix() - 3600 })),
		"no token":  func() *fasthttp.RequestCtx { c := authCtx(""); c.Request.Header.Del("Authorization"); return c }(),
	} {
		allocs := testing.AllocsPerRun(200, func() {
			ctx.Response.Reset()
			f.h(ctx)
			if ctx.Response.StatusCode() != 401 {
				t.Fatalf("%s: status %d", name, ctx.Response.StatusCode())
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per refusal, want 0", name, allocs)
		}
	}
}
