package server_test

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

func TestVerifyEndpoint(t *testing.T) {
	f := newFixture(t, engine.ES256, "")
	tok := f.token(t)
	for _, body := range []string{tok, "  " + tok + "\n", `{"token":"` + tok + `"}`} {
		r := call(f.h, "POST", "/verify", body)
		if r.status != 200 {
			t.Fatalf("status %d %s", r.status, r.body)
		}
		var out struct {
			Valid  bool           `json:"valid"`
			Header map[string]any `json:"header"`
			Claims map[string]any `json:"claims"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		if !out.Valid || out.Header["alg"] != "ES256" || out.Claims["sub"] != "user-1234567890" {
			t.Errorf("%+v", out)
		}
		if r.header("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.header("Content-Type"))
		}
	}
	for _, c := range []struct{ body, code, reason string }{
		{"", "invalid_token", "malformed"},
		{"garbage", "invalid_token", "malformed"},
		{f.token(t, func(c map[string]any) { c["exp"] = epoch.Add(-time.Hour).Unix() }), "invalid_token", "expired"},
		{f.token(t, func(c map[string]any) { c["aud"] = "x" }), "invalid_token", "audience"},
		{`{"token":5}`, "invalid_token", "malformed"},
		{`{"tok":"x"}`, "invalid_token", "malformed"},
		{`{"token":"a"} {"token":"b"}`, "invalid_token", "malformed"},
		{`{`, "invalid_token", "malformed"},
		{`{"token":"a","token":"b"}`, "invalid_token", "malformed"},
		{`{"token":null}`, "invalid_token", "malformed"},
		{`{"token":"a"}x`, "invalid_token", "malformed"},
		{`{"token":["a"]}`, "invalid_token", "malformed"},
		{`{"token":"a","other":1}`, "invalid_token", "malformed"},
	} {
		r := call(f.h, "POST", "/verify", c.body)
		var out map[string]any
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatalf("%q: %v: %s", c.body, err, r.body)
		}
		if r.status != 401 || out["valid"] != false || out["error"] != c.code || out["reason"] != c.reason || out["description"] == "" {
			t.Errorf("%.20q: %d %s", c.body, r.status, r.body)
		}
		if len(c.body) > 20 && strings.Contains(r.body, c.body[:20]) {
			t.Errorf("token echoed: %s", r.body)
		}
	}
	r := call(f.h, "GET", "/verify", "")
	if r.status != 405 || r.header("Allow") != "POST" {
		t.Errorf("GET /verify: %d %v", r.status, r.headers)
	}
}

// TestVerifyAuthorizationHeader: POST /verify with an empty body verifies
// the Authorization header's Bearer token, read as /auth reads it; a body,
// when there is one, is the token.
func TestVerifyAuthorizationHeader(t *testing.T) {
	f := newFixture(t, engine.ES256, "")
	tok := f.token(t)
	expired := f.token(t, func(c map[string]any) { c["exp"] = epoch.Add(-time.Hour).Unix() })
	for _, c := range []struct {
		name, body string
		headers    []string
		status     int
		reason     string
	}{
		{"bearer", "", []string{"Authorization: Bearer " + tok}, 200, ""},
		{"scheme case and spaces", " \n", []string{"Authorization: bEaReR   " + tok}, 200, ""},
		{"expired", "", []string{"Authorization: Bearer " + expired}, 401, "expired"},
		{"bearer without token", "", []string{"Authorization: Bearer"}, 401, "malformed"},
		{"two tokens in one header", "", []string{"Authorization: Bearer " + tok + " " + tok}, 401, "malformed"},
		{"two headers", "", []string{"Authorization: Bearer " + tok, "Authorization: Bearer " + tok}, 401, "multiple_tokens"},
		{"another scheme", "", []string{"Authorization: Basic dXNlcjpwYXNz"}, 401, "malformed"},
		{"nothing", "", nil, 401, "malformed"},
		{"the body wins", expired, []string{"Authorization: Bearer " + tok}, 401, "expired"},
		{"the body wins, valid", tok, []string{"Authorization: Bearer " + expired}, 200, ""},
	} {
		r := call(f.h, "POST", "/verify", c.body, c.headers...)
		var out map[string]any
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, r.body)
		}
		if r.status != c.status || out["valid"] != (c.status == 200) || c.reason != "" && out["reason"] != c.reason {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	if r := call(f.h, "GET", "/healthz", ""); r.status != 200 || !strings.Contains(r.body, `"ok"`) {
		t.Errorf("healthz %d %s", r.status, r.body)
	}
	r := call(f.h, "GET", "/readyz", "")
	if r.status != 200 || !strings.Contains(r.body, `"ready":true`) || !strings.Contains(r.body, `"keys":1`) {
		t.Errorf("readyz %d %s", r.status, r.body)
	}
	tok := f.token(t)
	f.auth(t, tok)
	f.auth(t, tok)
	f.auth(t, "bad")
	call(f.h, "GET", "/auth", "")
	call(f.h, "POST", "/verify", tok)
	r = call(f.h, "GET", "/metrics", "")
	if r.status != 200 || !strings.HasPrefix(r.header("Content-Type"), "text/plain") {
		t.Fatalf("metrics %d", r.status)
	}
	for _, want := range []string{
		`jwtgate_requests_total{endpoint="auth",outcome="allow",reason="ok"} 2`,
		`jwtgate_requests_total{endpoint="auth",outcome="deny",reason="malformed"} 1`,
		`jwtgate_requests_total{endpoint="auth",outcome="deny",reason="no_token"} 1`,
		`jwtgate_requests_total{endpoint="verify",outcome="allow",reason="ok"} 1`,
		`jwtgate_verify_duration_seconds_bucket{le="+Inf"} 4`,
		`jwtgate_verify_duration_seconds_count 4`,
		`jwtgate_token_cache_hits_total 2`,
		`jwtgate_token_cache_misses_total 2`,
		`jwtgate_token_cache_inserts_total 1`,
		`jwtgate_token_cache_evictions_total 0`,
		`jwtgate_token_cache_invalidations_total 0`,
		`jwtgate_token_cache_entries 1`,
		`jwtgate_issuer_keys{issuer="https://issuer.example"} 1`,
		`jwtgate_issuer_ready{issuer="https://issuer.example"} 1`,
		`jwtgate_jwks_last_refresh_age_seconds{issuer="https://issuer.example"}`,
		`jwtgate_jwks_fetches_total{outcome="ok"}`,
		`jwtgate_jwks_fetches_total{outcome="timeout"} 0`,
		`jwtgate_unknown_kid_total{outcome="refetched"}`,
		"jwtgate_ready 1",
		"go_goroutines",
	} {
		if !strings.Contains(r.body, want+"\n") && !strings.Contains(r.body, want+" ") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestKeysUnavailable(t *testing.T) {
	f := &fixture{key: signer(t, engine.ES256, "k-ES256"), clock: newFakeClock(), dir: t.TempDir()}
	f.start(t, "issuers:\n  - issuer: "+testIssuer+"\n    jwks_url: http://"+closedPort(t)+"/jwks.json\n    audiences: ["+testAudience+"]\n    fetch_timeout: 2s\n")
	r := call(f.h, "GET", "/readyz", "")
	if r.status != 503 || !strings.Contains(r.body, `"ready":false`) || !strings.Contains(r.body, `"keys":0`) {
		t.Errorf("readyz %d %s", r.status, r.body)
	}
	r = f.auth(t, f.token(t))
	if r.status != 401 || !strings.Contains(r.body, "unavailable") || !strings.Contains(r.header("Www-Authenticate"), "unavailable") {
		t.Errorf("auth with no keys: %d %s %q", r.status, r.body, r.header("Www-Authenticate"))
	}
	if r := call(f.h, "GET", "/healthz", ""); r.status != 200 {
		t.Errorf("healthz while not ready: %d", r.status)
	}
}

func TestMultipleIssuers(t *testing.T) {
	a := signer(t, engine.RS256, "k-RS256")
	b := signer(t, engine.EdDSA, "k-b-EdDSA")
	f := &fixture{key: a, clock: newFakeClock(), dir: t.TempDir()}
	f.start(t, `issuers:
  - issuer: `+testIssuer+`
    jwks_file: `+jwksFile(t, f.dir, "a.json", a)+`
    audiences: [`+testAudience+`]
  - issuer: `+otherIssuer+`
    jwks_file: `+jwksFile(t, f.dir, "b.json", b)+`
    audiences: [api://other]
    required_claims: [email]
rules:
  - path: /a-only
    issuers: [`+testIssuer+`]
`)
	tokA := mustSign(t, a, claims())
	tokB := mustSign(t, b, claims(func(c map[string]any) { c["iss"] = otherIssuer; c["aud"] = "api://other"; c["email"] = "x@y" }))
	for i := 0; i < 2; i++ {
		if r := f.auth(t, tokA, "X-Forwarded-Uri: /"); r.status != 200 || r.header("X-Auth-Issuer") != testIssuer {
			t.Errorf("issuer A: %d %s", r.status, r.body)
		}
		if r := f.auth(t, tokB, "X-Forwarded-Uri: /"); r.status != 200 || r.header("X-Auth-Issuer") != otherIssuer {
			t.Errorf("issuer B: %d %s", r.status, r.body)
		}
	}
	cases := []struct {
		name, tok, reason string
		status            int
	}{
		// B's policy applies to B's tokens: A's audience is not B's.
		{"B token with A audience", mustSign(t, b, claims(func(c map[string]any) { c["iss"] = otherIssuer; c["email"] = "x" })), "audience", 401},
		{"B token without email", mustSign(t, b, claims(func(c map[string]any) { c["iss"] = otherIssuer; c["aud"] = "api://other" })), "missing_claim", 401},
		// A token claiming issuer B but signed by A's key.
		{"forged issuer", mustSign(t, a, claims(func(c map[string]any) { c["iss"] = otherIssuer; c["aud"] = "api://other"; c["email"] = "x" })), "", 401},
		{"unknown issuer", mustSign(t, a, claims(func(c map[string]any) { c["iss"] = "https://nobody" })), "unknown_issuer", 401},
		{"no issuer", mustSign(t, a, claims(func(c map[string]any) { delete(c, "iss") })), "", 401},
	}
	for _, c := range cases {
		r := f.auth(t, c.tok, "X-Forwarded-Uri: /")
		if r.status != c.status || !strings.Contains(r.body, `"reason":"`+c.reason) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if r := f.auth(t, tokB, "X-Forwarded-Uri: /a-only"); r.status != 403 || !strings.Contains(r.body, "rule_issuer") {
		t.Errorf("issuer rule: %d %s", r.status, r.body)
	}
}

func TestDemoTokenVerifies(t *testing.T) {
	d, err := newDemoFixture(t)
	if err != nil {
		t.Fatal(err)
	}
	r := d.auth(t, d.tok)
	if r.status != 200 || r.header("X-Auth-Subject") != "demo-user" {
		t.Fatalf("demo token: %d %s", r.status, r.body)
	}
	r = call(d.h, "GET", "/.well-known/jwks.json", "")
	var set struct{ Keys []sign.JWK }
	if err := json.Unmarshal([]byte(r.body), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].D != "" || set.Keys[0].Kty != "OKP" {
		t.Errorf("jwks %d %s %v", r.status, r.body, err)
	}
}
