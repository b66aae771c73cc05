package server_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

func TestAuthValidTokenEveryAlgorithm(t *testing.T) {
	for _, alg := range engine.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			f := newFixture(t, alg, "")
			tok := f.token(t)
			for i := 0; i < 2; i++ { // uncached, then cached
				r := f.auth(t, tok)
				if r.status != 200 {
					t.Fatalf("request %d: status %d body %s", i, r.status, r.body)
				}
				if r.header("X-Auth-Subject") != "user-1234567890" || r.header("X-Auth-Issuer") != testIssuer ||
					r.header("X-Auth-Scope") != "openid profile read:orders" {
					t.Errorf("request %d: identity headers %v", i, r.headers)
				}
				if r.body != "" || r.header("Www-Authenticate") != "" {
					t.Errorf("request %d: 200 with body %q or challenge", i, r.body)
				}
				if r.header("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", r.header("Cache-Control"))
				}
			}
		})
	}
}

func TestAuthNoToken(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	for _, hdr := range [][]string{nil, {"Authorization: Basic dXNlcjpwYXNz"}, {"Authorization: Bearerx abc"}} {
		r := call(f.h, "GET", "/auth", "", hdr...)
		if r.status != 401 {
			t.Fatalf("%v: status %d", hdr, r.status)
		}
		if got := r.header("Www-Authenticate"); got != `Bearer realm="jwtgate"` {
			t.Errorf("%v: challenge %q, want no error attributes", hdr, got)
		}
		if !strings.Contains(r.body, `"reason":"no_token"`) || strings.Contains(r.body, `"error"`) {
			t.Errorf("%v: body %s", hdr, r.body)
		}
	}
}

func TestAuthInvalidTokens(t *testing.T) {
	f := newFixture(t, engine.ES256, "")
	good := f.token(t)
	other := signer(t, engine.ES256, "k-other")
	cases := []struct {
		name, tok, reason, desc string
	}{
		{"garbage", "not-a-jwt", "malformed", "three dot-separated segments"},
		{"expired", f.token(t, func(c map[string]any) { c["exp"] = epoch.Add(-time.Hour).Unix() }), "expired", "token has expired"},
		{"wrong key", mustSign(t, other, claims()), "unknown_kid", ""},
		{"bad signature", good[:len(good)-4] + "AAAA", "bad_signature", ""},
		{"wrong issuer", f.token(t, func(c map[string]any) { c["iss"] = otherIssuer }), "issuer", ""},
		{"too large", strings.Repeat("a", 17<<10), "too_large", ""},
		{"alg none", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "alg_none", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.auth(t, c.tok)
			if r.status != 401 {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
			ch := r.header("Www-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="jwtgate", error="invalid_token", error_description="`) {
				t.Errorf("challenge %q", ch)
			}
			if !strings.Contains(r.body, `"reason":"`+c.reason+`"`) || !strings.Contains(r.body, c.desc) {
				t.Errorf("body %s, want reason %s and %q", r.body, c.reason, c.desc)
			}
			if len(c.tok) > 8 && (strings.Contains(r.body, c.tok[:8]) || strings.Contains(ch, c.tok[:8])) {
				t.Errorf("token echoed: %s / %s", r.body, ch)
			}
			for _, b := range strings.TrimPrefix(ch, "Bearer ") {
				if b == '\\' || b < 0x20 || b > 0x7e {
					t.Fatalf("challenge has %q, outside RFC 6750's attribute characters", b)
				}
			}
		})
	}
}

func TestAuthChallengeHasNoQuoteInDescription(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	// "exp" as a string: the engine's description quotes the claim name.
	r := f.auth(t, f.token(t, func(c map[string]any) { c["exp"] = "soon" }))
	ch := r.header("Www-Authenticate")
	desc := ch[strings.Index(ch, `error_description="`)+len(`error_description="`) : len(ch)-1]
	if r.status != 401 || strings.ContainsAny(desc, `"\`) || !strings.Contains(desc, "'exp'") {
		t.Fatalf("status %d challenge %q", r.status, ch)
	}
}

func TestAuthBearerParsing(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	tok := f.token(t)
	for _, v := range []string{"Bearer " + tok, "bearer " + tok, "BEARER " + tok, "Bearer    " + tok, "Bearer\t" + tok} {
		if r := call(f.h, "GET", "/auth", "", "Authorization: "+v); r.status != 200 {
			t.Errorf("%q: status %d %s", v[:10], r.status, r.body)
		}
	}
	for _, c := range []struct{ value, desc string }{
		{"Bearer a b", "exactly one Bearer token"},
		{"Bearer " + tok + " " + tok, "exactly one Bearer token"},
		{"Bearer " + tok + ",Bearer " + tok, "exactly one Bearer token"},
		{"Bearer", "no token"},
		{"Bearer   ", "no token"},
	} {
		r := call(f.h, "GET", "/auth", "", "Authorization: "+c.value)
		if r.status != 401 || !strings.Contains(r.header("Www-Authenticate"), `error="invalid_token"`) || !strings.Contains(r.body, c.desc) {
			t.Errorf("%q: status %d challenge %q body %s", c.value, r.status, r.header("Www-Authenticate"), r.body)
		}
	}
}

func TestAuthTokenSources(t *testing.T) {
	f := newFixture(t, engine.HS256, "tokens:\n  header: X-Api-Token\n  header_prefix: 'Token '\n  cookie: access_token\n  query: access_token\n")
	tok := f.token(t)
	ok := [][]string{
		{"Authorization: Bearer " + tok},
		{"X-Api-Token: Token " + tok},
		{"X-Api-Token: token " + tok},
		{"Cookie: theme=dark; access_token=" + tok},
		{"Cookie: access_token=", "Authorization: Bearer " + tok}, // an empty cookie is no token
	}
	for _, hdr := range ok {
		if r := call(f.h, "GET", "/auth", "", hdr...); r.status != 200 {
			t.Errorf("%v: status %d %s", hdr, r.status, r.body)
		}
	}
	if r := call(f.h, "GET", "/auth?access_token="+tok, ""); r.status != 200 {
		t.Errorf("query: status %d %s", r.status, r.body)
	}
	if r := call(f.h, "GET", "/auth", "", "X-Forwarded-Uri: /orders?access_token="+tok); r.status != 200 {
		t.Errorf("query of the original URI: status %d %s", r.status, r.body)
	}
	multiple := [][]string{
		{"Authorization: Bearer " + tok, "Authorization: Bearer " + tok},
		{"Authorization: Bearer " + tok, "X-Api-Token: Token " + tok},
		{"Authorization: Bearer " + tok, "Cookie: access_token=" + tok},
		{"Cookie: access_token=" + tok + "; access_token=" + tok},
	}
	for _, hdr := range multiple {
		r := call(f.h, "GET", "/auth", "", hdr...)
		if r.status != 401 || !strings.Contains(r.body, "multiple_tokens") || !strings.Contains(r.header("Www-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%d headers: status %d body %s", len(hdr), r.status, r.body)
		}
	}
	if r := call(f.h, "GET", "/auth?access_token="+tok+"&access_token="+tok, ""); r.status != 401 || !strings.Contains(r.body, "multiple_tokens") {
		t.Errorf("two query tokens: status %d %s", r.status, r.body)
	}
	if r := call(f.h, "GET", "/auth?access_token="+tok, "", "Authorization: Bearer "+tok); r.status != 401 {
		t.Errorf("query and header: status %d", r.status)
	}
	if r := call(f.h, "GET", "/auth", "", "X-Api-Token: Token"); r.status != 401 || !strings.Contains(r.body, "no token") {
		t.Errorf("empty prefixed header: %d %s", r.status, r.body)
	}
}

func TestAuthIdentityHeadersAreNeverTakenFromTheClient(t *testing.T) {
	f := newFixture(t, engine.EdDSA, "")
	tok := f.token(t, func(c map[string]any) { delete(c, "scope") })
	for i := 0; i < 2; i++ {
		r := f.auth(t, tok, "X-Auth-Subject: admin", "X-Auth-Scope: admin", "X-Auth-Issuer: "+otherIssuer)
		if r.status != 200 {
			t.Fatal(r.status, r.body)
		}
		if got := r.headers["X-Auth-Subject"]; len(got) != 1 || got[0] != "user-1234567890" {
			t.Errorf("X-Auth-Subject %q", got)
		}
		// The token has no scope: the header is sent empty, so that a proxy
		// copying it overwrites the client's "admin".
		if got, ok := r.headers["X-Auth-Scope"]; !ok || len(got) != 1 || got[0] != "" {
			t.Errorf("X-Auth-Scope %q (present %v), want one empty value", got, ok)
		}
	}
	// A refused request carries no identity at all.
	r := f.auth(t, "bogus", "X-Auth-Subject: admin")
	if _, ok := r.headers["X-Auth-Subject"]; ok {
		t.Errorf("401 carries X-Auth-Subject: %v", r.headers)
	}
}

func TestAuthCustomIdentity(t *testing.T) {
	f := newFixture(t, engine.HS256, `identity:
  headers:
    - {header: X-User, claim: sub}
    - {header: X-Groups, claim: groups, separator: ";"}
    - {header: X-Email, claim: email}
    - {header: X-Aud, claim: aud}
    - {header: X-Verified, claim: email_verified}
    - {header: X-Org, claim: org}
    - {header: X-Level, claim: level}
    - {header: X-Missing, claim: nothing}
    - {header: X-Scp, claim: scp}
  payload_header: X-Auth-Payload
  max_value_bytes: 64
`)
	c := claims(func(c map[string]any) {
		c["groups"] = []any{"admins", "dev ops", 7}
		c["email"] = "ann\u00e9@example.com"
		c["aud"] = []string{testAudience, "other"}
		c["email_verified"] = true
		c["org"] = map[string]any{"id": 42, "name": "a b"}
		c["level"] = 3.5
		delete(c, "scope")
		c["scp"] = []string{"read", "write"}
	})
	tok := mustSign(t, f.key, c)
	for i := 0; i < 2; i++ {
		r := f.auth(t, tok)
		if r.status != 200 {
			t.Fatal(r.status, r.body)
		}
		want := map[string]string{
			"X-User": "user-1234567890", "X-Groups": "admins;dev ops;7", "X-Email": "ann\u00e9@example.com",
			"X-Aud": testAudience + ",other", "X-Verified": "true", "X-Org": `{"id":42,"name":"a b"}`,
			"X-Level": "3.5", "X-Missing": "", "X-Scp": "read write",
			"X-Auth-Payload": strings.Split(tok, ".")[1],
		}
		for k, v := range want {
			if got, ok := r.headers[k]; !ok || got[0] != v {
				t.Errorf("request %d: %s = %q (present %v), want %q", i, k, got, ok, v)
			}
		}
		if _, ok := r.headers["X-Auth-Subject"]; ok {
			t.Error("default headers sent although the list replaces them")
		}
		payload, err := base64.RawURLEncoding.DecodeString(r.header("X-Auth-Payload"))
		if err != nil || !strings.Contains(string(payload), `"sub":"user-1234567890"`) {
			t.Errorf("payload %q %v", payload, err)
		}
	}
}

func TestAuthRefusesUnforwardableIdentity(t *testing.T) {
	f := newFixture(t, engine.HS256, "identity:\n  max_value_bytes: 32\n")
	for _, c := range []struct {
		name string
		sub  string
		desc string
	}{
		{"newline", "alice\r\nX-Admin: yes", "control characters"},
		{"nul", "alice\x00", "control characters"},
		{"too long", strings.Repeat("a", 33), "longer than 32 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := f.token(t, func(m map[string]any) { m["sub"] = c.sub })
			for i := 0; i < 2; i++ {
				r := f.auth(t, tok)
				if r.status != 401 || !strings.Contains(r.body, "identity_unforwardable") || !strings.Contains(r.body, c.desc) {
					t.Fatalf("request %d: status %d body %s", i, r.status, r.body)
				}
				if _, ok := r.headers["X-Admin"]; ok {
					t.Fatal("header injected")
				}
			}
		})
	}
	if r := f.auth(t, f.token(t, func(m map[string]any) { m["sub"] = strings.Repeat("a", 32) })); r.status != 200 {
		t.Errorf("value of exactly the bound refused: %d", r.status)
	}
}

func TestAuthAnyMethodAndSubpath(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	tok := f.token(t)
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"} {
		for _, p := range []string{"/auth", "/auth/", "/auth/api/v1/orders?x=1"} {
			r := call(f.h, m, p, "", "Authorization: Bearer "+tok)
			if r.status != 200 {
				t.Errorf("%s %s: %d", m, p, r.status)
			}
		}
	}
	if r := call(f.h, "GET", "/authz", "", "Authorization: Bearer "+tok); r.status != 404 {
		t.Errorf("/authz: %d", r.status)
	}
}

func TestAuthAudienceAndScopePolicies(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	r := f.auth(t, f.token(t, func(c map[string]any) { c["aud"] = "api://elsewhere" }))
	// RFC 9068 §4: a token for another audience is an invalid token (401),
	// not a lack of scope.
	if r.status != 401 || !strings.Contains(r.header("Www-Authenticate"), `error="invalid_token"`) || strings.Contains(r.header("Www-Authenticate"), "scope=\"") {
		t.Errorf("wrong audience: %d %q, want 401 invalid_token", r.status, r.header("Www-Authenticate"))
	}

	g := &fixture{key: signer(t, engine.HS256, "k-HS256"), clock: newFakeClock(), dir: t.TempDir()}
	path := jwksFile(t, g.dir, "jwks.json", g.key)
	g.start(t, "issuers:\n  - issuer: "+testIssuer+"\n    jwks_file: "+path+"\n    audiences: ["+testAudience+"]\n    required_scopes: [orders, admin]\n")
	r = g.auth(t, g.token(t, func(c map[string]any) { c["scope"] = "orders" }))
	if r.status != 403 || !strings.HasSuffix(r.header("Www-Authenticate"), `, scope="orders admin"`) {
		t.Errorf("issuer scopes: %d %q", r.status, r.header("Www-Authenticate"))
	}
	if r := g.auth(t, g.token(t, func(c map[string]any) { c["scope"] = "admin orders" })); r.status != 200 {
		t.Errorf("all scopes: %d %s", r.status, r.body)
	}
}

func TestNotFound(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	for _, p := range []string{"/", "/verify/x", "/.well-known/jwks.json", "/metrics2"} {
		if r := call(f.h, "GET", p, ""); r.status != 404 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}
