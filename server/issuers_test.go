package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// issuerURL is the exact issuer i of newIssuersFixture.
func issuerURL(i int) string { return fmt.Sprintf("https://issuer%d.example", i) }

// issuersFixture is a server trusting n issuers, each with a key of its
// own in a JWKS file of its own.
type issuersFixture struct {
	*fixture
	keys []*sign.Key
}

func newIssuersFixture(tb testing.TB, n int, extra string) *issuersFixture {
	tb.Helper()
	f := &issuersFixture{fixture: &fixture{clock: newFakeClock(), dir: tb.TempDir()}}
	yaml := "issuers:\n"
	for i := range n {
		k := signer(tb, engine.HS256, fmt.Sprintf("iss%d-k1", i))
		f.keys = append(f.keys, k)
		path := jwksFile(tb, f.dir, fmt.Sprintf("jwks%d.json", i), k)
		yaml += fmt.Sprintf("  - issuer: %s\n    jwks_file: %s\n    audiences: [%q]\n", issuerURL(i), path, testAudience)
	}
	f.start(tb, yaml+extra)
	return f
}

// token is a valid token of issuer i signed with key j.
func (f *issuersFixture) token(tb testing.TB, i, j int) string {
	return mustSign(tb, f.keys[j], claims(func(c map[string]any) { c["iss"] = issuerURL(i) }))
}

func TestAuthManyIssuers(t *testing.T) {
	f := newIssuersFixture(t, 5, "")
	for i := range 5 {
		for range 2 { // verified, then from the one cache
			r := f.auth(t, f.token(t, i, i))
			if r.status != 200 || r.header("X-Auth-Issuer") != issuerURL(i) {
				t.Fatalf("issuer %d: %d %q %s", i, r.status, r.header("X-Auth-Issuer"), r.body)
			}
		}
	}
	// iss names issuer 1, kid and signature are issuer 3's: refused, the
	// kid being looked up only among issuer 1's keys.
	r := f.auth(t, f.token(t, 1, 3))
	if r.status != 401 || !strings.Contains(r.body, `"unknown_kid"`) {
		t.Fatalf("another issuer's key: %d %s", r.status, r.body)
	}
	r = f.auth(t, mustSign(t, f.keys[0], claims(func(c map[string]any) { c["iss"] = "https://nobody.example" })))
	if r.status != 401 || !strings.Contains(r.body, `"unknown_issuer"`) {
		t.Fatalf("unconfigured issuer: %d %s", r.status, r.body)
	}
}

const (
	entraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"
	tenantAllowed = "9188040d-6c67-4c5b-b112-36a304b66dad"
	tenantOther   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

// entraServer serves on loopback what Microsoft Entra ID's common endpoint
// serves: a discovery document whose issuer is the tenant template, and
// one JWKS for every tenant.
func entraServer(t *testing.T, k *sign.Key) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/common/v2.0/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"token_endpoint":"https://login.microsoftonline.com/common/oauth2/v2.0/token","jwks_uri":%q,`+
				`"response_types_supported":["code","id_token"],"issuer":%q,"cloud_instance_name":"microsoftonline.com"}`,
				srv.URL+"/common/discovery/v2.0/keys", entraTemplate)
		case "/common/discovery/v2.0/keys":
			w.Header().Set("Content-Type", "application/json")
			w.Write(sign.JWKS(k))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAuthTenantTemplate(t *testing.T) {
	k := signer(t, engine.RS256, "entra-k1")
	srv := entraServer(t, k)
	f := &fixture{clock: newFakeClock(), dir: t.TempDir()}
	f.start(t, `issuers:
  - issuer: "`+entraTemplate+`"
    discovery: `+srv.URL+`/common/v2.0
    tenants: ["`+tenantAllowed+`"]
    audiences: ["`+testAudience+`"]
identity:
  headers:
    - {header: X-Auth-Subject, claim: sub}
    - {header: X-Auth-Tenant, claim: tid}
rules:
  - path: /tenants
    issuers: ["`+entraTemplate+`"]
`)
	tok := func(issTenant, tid string) string {
		return mustSign(t, k, claims(func(c map[string]any) {
			c["iss"] = strings.Replace(entraTemplate, "{tenantid}", issTenant, 1)
			c["tid"] = tid
		}))
	}
	r := f.auth(t, tok(tenantAllowed, tenantAllowed), "X-Forwarded-Uri: /tenants/x")
	if r.status != 200 || r.header("X-Auth-Tenant") != tenantAllowed {
		t.Fatalf("allowed tenant (a rule naming the template): %d %q %s", r.status, r.header("X-Auth-Tenant"), r.body)
	}
	for name, token := range map[string]string{
		"unlisted tenant":       tok(tenantOther, tenantOther),
		"iss tenant is not tid": tok(tenantAllowed, tenantOther),
		"slash in the tenant":   tok(tenantAllowed+"/..", tenantAllowed+"/.."),
	} {
		r := f.auth(t, token)
		if r.status != 401 || !strings.Contains(r.header("Www-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: %d %q", name, r.status, r.header("Www-Authenticate"))
		}
	}
}

// TestAuthIssuersZeroAllocs: /auth allocates nothing with 5 issuers as with
// 1, cached and uncached (HS256).
func TestAuthIssuersZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are checked without -race: the race detector makes sync.Pool drop items on purpose")
	}
	for _, n := range []int{1, 5} {
		for _, extra := range []string{"", cacheOff} {
			f := newIssuersFixture(t, n, extra)
			ctx := authCtx(f.token(t, n-1, n-1))
			allocs := testing.AllocsPerRun(200, func() {
				ctx.Response.Reset()
				f.h(ctx)
				if ctx.Response.StatusCode() != 200 {
					t.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			})
			if allocs != 0 {
				t.Errorf("%d issuers, cache off %v: %v allocs per /auth", n, extra != "", allocs)
			}
		}
	}
}

// BenchmarkAuthIssuers measures /auth with 1 and with 5 issuers (the
// token of the last), cached and uncached.
func BenchmarkAuthIssuers(b *testing.B) {
	for _, cached := range []bool{false, true} {
		for _, n := range []int{1, 5} {
			b.Run(fmt.Sprintf("cached=%v/issuers=%d", cached, n), func(b *testing.B) {
				extra := cacheOff
				if cached {
					extra = ""
				}
				f := newIssuersFixture(b, n, extra)
				ctx := authCtx(f.token(b, n-1, n-1))
				b.ReportAllocs()
				for b.Loop() {
					ctx.Response.Reset()
					f.h(ctx)
				}
				if ctx.Response.StatusCode() != fasthttp.StatusOK {
					b.Fatalf("status %d", ctx.Response.StatusCode())
				}
			})
		}
	}
}
