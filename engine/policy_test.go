package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

func TestPolicy(t *testing.T) {
	type row struct {
		name   string
		cfg    func(*engine.Config)
		claims func(map[string]any)
		header map[string]any // replaces the signed header when set
		want   error
		desc   string // substring of the error text, when it matters
	}
	rows := []row{
		{name: "valid"},
		{name: "second allowed issuer", cfg: func(c *engine.Config) { c.Issuers = []string{"https://other", testIssuer} }},
		{name: "wrong issuer", claims: func(m map[string]any) { m["iss"] = "https://evil.example" }, want: engine.ErrIssuer},
		{name: "issuer differs in case", claims: func(m map[string]any) { m["iss"] = strings.ToUpper(testIssuer) }, want: engine.ErrIssuer},
		{name: "no issuer", claims: func(m map[string]any) { delete(m, "iss") }, want: engine.ErrIssuer, desc: "no iss"},
		{name: "any issuer", cfg: func(c *engine.Config) { c.Issuers, c.AnyIssuer = nil, true }, claims: func(m map[string]any) { delete(m, "iss") }},
		{name: "audience array any-of", claims: func(m map[string]any) { m["aud"] = []string{"x", testAudience} }},
		{name: "audience mismatch", claims: func(m map[string]any) { m["aud"] = "api://other" }, want: engine.ErrAudience},
		{name: "no audience", claims: func(m map[string]any) { delete(m, "aud") }, want: engine.ErrAudience, desc: "no aud"},
		{name: "empty audience array", claims: func(m map[string]any) { m["aud"] = []string{} }, want: engine.ErrAudience},
		{name: "all audiences present", cfg: func(c *engine.Config) { c.Audiences, c.AllAudiences = []string{"a", "b"}, true },
			claims: func(m map[string]any) { m["aud"] = []string{"b", "c", "a"} }},
		{name: "all audiences missing one", cfg: func(c *engine.Config) { c.Audiences, c.AllAudiences = []string{"a", "b"}, true },
			claims: func(m map[string]any) { m["aud"] = []string{"a"} }, want: engine.ErrAudience},
		{name: "expired", claims: func(m map[string]any) { m["exp"] = epoch.Add(-31 * time.Second).Unix() }, want: engine.ErrExpired},
		{name: "expired within leeway", claims: func(m map[string]any) { m["exp"] = epoch.Add(-29 * time.Second).Unix() }},
		{name: "expired, no leeway", cfg: func(c *engine.Config) { c.Leeway = -1 },
			claims: func(m map[string]any) { m["exp"] = epoch.Unix() }, want: engine.ErrExpired},
		{name: "fractional exp", claims: func(m map[string]any) { m["exp"] = float64(epoch.Add(time.Hour).Unix()) + 0.5 }},
		{name: "exponent exp", claims: func(m map[string]any) { m["exp"] = 1.8e9 }},
		{name: "no exp", claims: func(m map[string]any) { delete(m, "exp") }, want: engine.ErrMissingClaim, desc: "exp"},
		{name: "no exp, optional", cfg: func(c *engine.Config) { c.ExpOptional = true }, claims: func(m map[string]any) { delete(m, "exp") }},
		{name: "not yet valid", claims: func(m map[string]any) { m["nbf"] = epoch.Add(31 * time.Second).Unix() }, want: engine.ErrNotYetValid},
		{name: "nbf within leeway", claims: func(m map[string]any) { m["nbf"] = epoch.Add(29 * time.Second).Unix() }},
		{name: "issued in the future", claims: func(m map[string]any) { m["iat"] = epoch.Add(time.Minute).Unix() }, want: engine.ErrIssuedInFuture},
		{name: "max age ok", cfg: func(c *engine.Config) { c.MaxAge = 5 * time.Minute }},
		{name: "too old", cfg: func(c *engine.Config) { c.MaxAge = 5 * time.Minute },
			claims: func(m map[string]any) { m["iat"] = epoch.Add(-6 * time.Minute).Unix() }, want: engine.ErrTooOld},
		{name: "max age needs iat", cfg: func(c *engine.Config) { c.MaxAge = 5 * time.Minute },
			claims: func(m map[string]any) { delete(m, "iat") }, want: engine.ErrMissingClaim, desc: "iat"},
		{name: "typ at+jwt", cfg: func(c *engine.Config) { c.Typ = "at+jwt" }, header: map[string]any{"typ": "at+jwt"}},
		{name: "typ with application/ prefix", cfg: func(c *engine.Config) { c.Typ = "at+jwt" }, header: map[string]any{"typ": "application/AT+JWT"}},
		{name: "typ JWT where at+jwt required", cfg: func(c *engine.Config) { c.Typ = "at+jwt" }, header: map[string]any{"typ": "JWT"}, want: engine.ErrTyp},
		{name: "typ missing where required", cfg: func(c *engine.Config) { c.Typ = "at+jwt" }, header: map[string]any{}, want: engine.ErrTyp, desc: "no typ"},
		{name: "required claims present", cfg: func(c *engine.Config) { c.RequiredClaims = []string{"sub", "jti", "tenant"} },
			claims: func(m map[string]any) { m["tenant"] = "acme" }},
		{name: "required claim missing", cfg: func(c *engine.Config) { c.RequiredClaims = []string{"tenant"} }, want: engine.ErrMissingClaim, desc: `"tenant"`},
		{name: "required claim null", cfg: func(c *engine.Config) { c.RequiredClaims = []string{"tenant"} },
			claims: func(m map[string]any) { m["tenant"] = nil }, want: engine.ErrMissingClaim},
		{name: "required scope", cfg: func(c *engine.Config) { c.RequiredScopes = []string{"read:orders"} }},
		{name: "required scope absent", cfg: func(c *engine.Config) { c.RequiredScopes = []string{"admin"} }, want: engine.ErrScope, desc: `"admin"`},
		{name: "scope prefix is not a scope", cfg: func(c *engine.Config) { c.RequiredScopes = []string{"read"} }, want: engine.ErrScope},
		{name: "scp array", cfg: func(c *engine.Config) { c.RequiredScopes = []string{"b"} },
			claims: func(m map[string]any) { delete(m, "scope"); m["scp"] = []string{"a", "b"} }},
		{name: "algorithm not allowed", cfg: func(c *engine.Config) { c.Algorithms = []engine.Alg{engine.RS256} }, want: engine.ErrAlgNotAllowed},
		{name: "kid required and present", cfg: func(c *engine.Config) { c.RequireKid = true }},
		{name: "kid required, absent", cfg: func(c *engine.Config) { c.RequireKid = true }, header: map[string]any{"typ": "JWT", "kid": nil},
			want: engine.ErrKidRequired, desc: "kid is required"},
		{name: "no kid, one key", header: map[string]any{"typ": "JWT", "kid": nil}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			f := newFixture(t, engine.ES256, r.cfg)
			claims := accessClaims()
			if r.claims != nil {
				r.claims(claims)
			}
			header := f.signer.Header()
			for k, v := range r.header {
				if v == nil {
					delete(header, k)
				} else {
					header[k] = v
				}
			}
			if r.header != nil && len(r.header) == 0 {
				delete(header, "typ")
			}
			tok, err := f.signer.SignWithHeader(header, claims)
			if err != nil {
				t.Fatal(err)
			}
			var res engine.Token
			err = f.v.VerifyString(tok, &res)
			if r.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, r.want) {
				t.Fatalf("got %v, want %v", err, r.want)
			}
			if r.desc != "" && !strings.Contains(err.Error(), r.desc) {
				t.Fatalf("error %q does not mention %q", err, r.desc)
			}
		})
	}
}

// The familiar failure: an HS256 token without kid reaching a verifier whose
// keys are RS256 must say why, naming both algorithms.
func TestKidRequiredNamesBothAlgorithms(t *testing.T) {
	rs := newFixture(t, engine.RS256, func(c *engine.Config) { c.RequireKid = true })
	hs := newFixture(t, engine.HS256, nil)
	header := map[string]any{"alg": "HS256", "typ": "JWT"}
	tok, err := hs.signer.SignWithHeader(header, accessClaims())
	if err != nil {
		t.Fatal(err)
	}
	var res engine.Token
	err = rs.v.VerifyString(tok, &res)
	if !errors.Is(err, engine.ErrKidRequired) {
		t.Fatalf("got %v, want ErrKidRequired", err)
	}
	for _, s := range []string{"kid is required", "HS256", "RS256"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not mention %q", err, s)
		}
	}
	// Without RequireKid the same token is an algorithm mismatch, also named.
	lax := newFixture(t, engine.RS256, nil)
	err = lax.v.VerifyString(tok, &res)
	if !errors.Is(err, engine.ErrAlgMismatch) || !strings.Contains(err.Error(), "HS256") || !strings.Contains(err.Error(), "RS256") {
		t.Fatalf("got %v, want ErrAlgMismatch naming HS256 and RS256", err)
	}
}

func TestErrorsCarryOAuthCodes(t *testing.T) {
	var e *engine.Error
	if !errors.As(engine.ErrExpired, &e) || e.OAuthCode() != engine.OAuthInvalidToken || e.Reason() != "expired" {
		t.Fatalf("ErrExpired: %v", e)
	}
	if engine.ErrScope.OAuthCode() != engine.OAuthInsufficientScope {
		t.Fatal("a missing scope is insufficient_scope (403)")
	}
	// RFC 9068 §4: a token for another audience is invalid_token (401), not
	// a lack of scope.
	if engine.ErrAudience.OAuthCode() != engine.OAuthInvalidToken || errNoAud(t).OAuthCode() != engine.OAuthInvalidToken {
		t.Fatalf("audience failures: %q, want %q", engine.ErrAudience.OAuthCode(), engine.OAuthInvalidToken)
	}
	refined := engine.ErrExpired.Refine("token expired at noon")
	if !errors.Is(refined, engine.ErrExpired) || errors.Is(refined, engine.ErrNotYetValid) || refined.Reason() != "expired" {
		t.Fatal("Refine must keep the reason and match it with errors.Is")
	}
}

func TestConfigErrors(t *testing.T) {
	keys := &testKeys{}
	for name, cfg := range map[string]engine.Config{
		"no keys":            {Issuers: []string{"i"}, Audiences: []string{"a"}},
		"no issuer policy":   {Keys: keys, Audiences: []string{"a"}},
		"no audience policy": {Keys: keys, Issuers: []string{"i"}},
		"bad algorithm":      {Keys: keys, AnyIssuer: true, AnyAudience: true, Algorithms: []engine.Alg{99}},
		"crit on alg":        {Keys: keys, AnyIssuer: true, AnyAudience: true, CriticalHeaders: []string{"alg"}},
		"negative max age":   {Keys: keys, AnyIssuer: true, AnyAudience: true, MaxAge: -time.Second},
	} {
		if _, err := engine.New(cfg); !errors.Is(err, engine.ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
}

func TestTooLarge(t *testing.T) {
	f := newFixture(t, engine.HS256, func(c *engine.Config) { c.MaxTokenSize = 64 })
	var res engine.Token
	if err := f.v.VerifyString(f.token(t, accessClaims()), &res); !errors.Is(err, engine.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestVerifySignatureOnly(t *testing.T) {
	f := newFixture(t, engine.EdDSA, nil)
	tok, err := f.signer.SignRaw([]byte(`{"alg":"EdDSA","kid":"k-EdDSA"}`), []byte("not JSON at all \x00\xff"))
	if err != nil {
		t.Fatal(err)
	}
	var res engine.Token
	if err := f.v.VerifySignature([]byte(tok), &res); err != nil {
		t.Fatalf("signature-only: %v", err)
	}
	if string(res.Payload()) != "not JSON at all \x00\xff" {
		t.Fatalf("payload = %q", res.Payload())
	}
	if err := f.v.VerifyString(tok, &res); !errors.Is(err, engine.ErrMalformed) {
		t.Fatalf("full verify of a non-JSON payload: got %v, want ErrMalformed", err)
	}
	bad := []byte(tok)
	bad[10] ^= 1
	if err := f.v.VerifySignature(bad, &res); err == nil {
		t.Fatal("tampered token passed signature-only verification")
	}
}

// errNoAud returns the error for a token without aud, a refinement of
// ErrAudience.
func errNoAud(t *testing.T) *engine.Error {
	t.Helper()
	f := newFixture(t, engine.HS256, nil)
	claims := accessClaims()
	delete(claims, "aud")
	var res engine.Token
	var e *engine.Error
	if err := f.v.VerifyString(f.token(t, claims), &res); !errors.As(err, &e) || !errors.Is(err, engine.ErrAudience) {
		t.Fatalf("token without aud: got %v, want ErrAudience", err)
	}
	return e
}
