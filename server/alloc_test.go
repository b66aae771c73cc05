package server_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
)

// authCtx returns a reusable request context for GET /auth with tok (none
// if tok is empty), read from the wire format as the server reads it, so
// that the raw request target and header block the handler checks are
// those of a real request.
func authCtx(tok string) *fasthttp.RequestCtx {
	raw := "GET /auth HTTP/1.1\r\nHost: auth.internal\r\n"
	if tok != "" {
		raw += "Authorization: Bearer " + tok + "\r\n"
	}
	raw += "X-Forwarded-Uri: /orders/42?page=1\r\nX-Forwarded-Method: GET\r\n" +
		"X-Forwarded-Proto: https\r\nX-Forwarded-Host: api.example\r\nX-Forwarded-For: 192.0.2.1\r\n" +
		"User-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n"
	ctx := new(fasthttp.RequestCtx)
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		panic(err)
	}
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
		"no token":  authCtx(""),
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
