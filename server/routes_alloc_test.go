package server_test

import (
	"bufio"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
)

// routeTable returns the YAML of a route table of n routes with three claim
// conditions each, and the claims of a token that meets the last route's.
func routeTable(n int) (string, func(map[string]any)) {
	var b strings.Builder
	if n > 0 {
		b.WriteString("routes:\n")
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `  - name: svc-%d
    path: /svc-%d/**
    methods: [GET, POST]
    require:
      - claim: realm_access.roles
        op: contains
        value: role-%d
      - claim: azp
        op: one_of
        value: [web, cli]
      - claim: '["https://example.com/tenant"]'
        op: equals
        value: acme
`, i, i, i)
	}
	return b.String(), func(c map[string]any) {
		c["realm_access"] = map[string]any{"roles": []string{"offline_access", "uma_authorization", fmt.Sprintf("role-%d", n-1)}}
		c["azp"] = "cli"
		c["https://example.com/tenant"] = "acme"
	}
}

// routeCtx is authCtx for the original request GET uri.
func routeCtx(tok, uri string) *fasthttp.RequestCtx {
	raw := "GET /auth HTTP/1.1\r\nHost: auth.internal\r\n"
	if tok != "" {
		raw += "Authorization: Bearer " + tok + "\r\n"
	}
	raw += "X-Forwarded-Uri: " + uri + "\r\nX-Forwarded-Method: GET\r\n" +
		"X-Forwarded-Proto: https\r\nX-Forwarded-Host: api.example\r\nX-Forwarded-For: 192.0.2.1\r\n" +
		"User-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n"
	ctx := new(fasthttp.RequestCtx)
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		panic(err)
	}
	return ctx
}

// TestAuthRoutesZeroAllocs: /auth through a table of 50 routes with three
// conditions each allocates nothing, cached and uncached, allowed and
// refused.
func TestAuthRoutesZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are checked without -race: the race detector makes sync.Pool drop items on purpose")
	}
	table, mod := routeTable(50)
	for _, cached := range []bool{true, false} {
		extra := table
		if !cached {
			extra = cacheOff + table
		}
		f := newFixture(t, engine.HS256, extra)
		tok := f.token(t, mod)
		for _, c := range []struct {
			name   string
			uri    string
			status int
		}{
			{"allowed", "/svc-49/orders/42?page=1", 200},
			{"condition fails", "/svc-48/orders/42", 403},
			{"default route", "/elsewhere", 200},
		} {
			ctx := routeCtx(tok, c.uri)
			allocs := testing.AllocsPerRun(200, func() {
				ctx.Response.Reset()
				f.h(ctx)
				if ctx.Response.StatusCode() != c.status {
					t.Fatalf("%s: status %d: %s", c.name, ctx.Response.StatusCode(), ctx.Response.Body())
				}
			})
			if allocs != 0 {
				t.Errorf("cached=%v %s: %v allocs per /auth, want 0", cached, c.name, allocs)
			}
		}
	}
}
