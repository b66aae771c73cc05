package extauthz

import (
	"context"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"github.com/jwtgate/jwtgate/server/config"
)

// benchRequests are an allowed request (a valid token with a client copy
// of an identity header and a look-alike) and a refused one (no token).
func benchRequests(tb testing.TB) (allowed, refused *authv3.CheckRequest) {
	allowed = httpReq{"GET", "api.example", "/orders/42?x=1", map[string]string{
		"authorization": "Bearer " + token(tb), "x-auth-subject": "root", "x_auth_issuer": "evil",
		"user-agent": "curl/8", "accept": "*/*", "x-request-id": "abc",
	}}.checkRequest()
	refused = httpReq{"GET", "api.example", "/orders/42", map[string]string{"user-agent": "curl/8"}}.checkRequest()
	return allowed, refused
}

// BenchmarkCheck calls Check directly (no transport) with a cached token,
// an uncached one, and none.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache bool
		allow bool
	}{{"allowed/cached", true, true}, {"allowed/uncached", false, true}, {"refused", true, false}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := testConfig()
			if !bc.cache {
				zero := 0
				cfg.Cache.Entries = &zero
			}
			f := newFixture(b, cfg, nil)
			allowed, refused := benchRequests(b)
			req, want := refused, codes.Unauthenticated
			if bc.allow {
				req, want = allowed, codes.OK
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resp, _ := f.svc.Check(ctx, req)
				if codes.Code(resp.GetStatus().GetCode()) != want {
					b.Fatal(resp)
				}
			}
		})
	}
}

// TestCheckAllocs: a Check allocates only the answer — one block for its
// generated messages and one string for the header values (or the
// challenge and body) — however many headers the request has; the decision
// itself allocates nothing, nor does taking the generation serving, before
// a reload or after it.
func TestCheckAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled items: allocation counts are meaningless")
	}
	f := newFixtureLoading(t, testConfig(), func() (*config.Config, error) { return testConfig(), nil }, nil)
	allowed, refused := benchRequests(t)
	ctx := context.Background()
	for _, reload := range []bool{false, true} {
		if reload {
			if err := f.http.Reload(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name string
			req  *authv3.CheckRequest
			want float64
		}{{"allowed", allowed, 2}, {"refused", refused, 2}} {
			f.svc.Check(ctx, tc.req) // the token is cached, the pool warm
			if got := testing.AllocsPerRun(200, func() { f.svc.Check(ctx, tc.req) }); got != tc.want {
				t.Errorf("%s (after a reload: %v): %v allocations per Check, want %v", tc.name, reload, got, tc.want)
			}
		}
	}
}
