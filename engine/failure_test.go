package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// TestFailedVerifyLeavesNothingReadable checks the invariant "a failed
// Verify leaves no claim readable in the Token" for every kind of failure —
// structural, key, signature, policy after a good signature, and a cache hit
// that fails its re-check — into a fresh Token and into one that holds a
// valid, cached token with an attachment.
func TestFailedVerifyLeavesNothingReadable(t *testing.T) {
	type failure struct {
		name string
		want error
		// run makes the failing call; f's verifier has the cache on and
		// requires the scope "read:orders".
		run func(t *testing.T, f *fixture, res *engine.Token) error
	}
	signed := func(mod func(map[string]any)) func(t *testing.T, f *fixture, res *engine.Token) error {
		return func(t *testing.T, f *fixture, res *engine.Token) error {
			claims := accessClaims()
			mod(claims)
			return f.v.VerifyString(f.token(t, claims), res)
		}
	}
	failures := []failure{
		{"empty", engine.ErrMalformed, func(t *testing.T, f *fixture, res *engine.Token) error { return f.v.Verify(nil, res) }},
		{"too large", engine.ErrTooLarge, func(t *testing.T, f *fixture, res *engine.Token) error {
			return f.v.Verify(make([]byte, engine.DefaultMaxTokenSize+1), res)
		}},
		{"two segments", engine.ErrMalformed, func(t *testing.T, f *fixture, res *engine.Token) error {
			return f.v.VerifyString("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9", res)
		}},
		{"forged signature", engine.ErrBadSignature, func(t *testing.T, f *fixture, res *engine.Token) error {
			forger := sign.MustGenerate(engine.HS256, f.signer.Kid) // same kid, attacker's secret
			claims := accessClaims()
			claims["sub"] = "admin"
			tok, err := forger.Sign(claims)
			if err != nil {
				t.Fatal(err)
			}
			return f.v.VerifyString(tok, res)
		}},
		{"unknown kid", engine.ErrUnknownKid, func(t *testing.T, f *fixture, res *engine.Token) error {
			tok, err := sign.MustGenerate(engine.HS256, "other-kid").Sign(accessClaims())
			if err != nil {
				t.Fatal(err)
			}
			return f.v.VerifyString(tok, res)
		}},
		{"duplicate claim", engine.ErrDuplicate, func(t *testing.T, f *fixture, res *engine.Token) error {
			tok, err := f.signer.SignRaw([]byte(`{"alg":"HS256","kid":"`+f.signer.Kid+`"}`),
				[]byte(`{"iss":"`+testIssuer+`","sub":"admin","sub":"x","aud":"`+testAudience+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			return f.v.VerifyString(tok, res)
		}},
		{"claim type", engine.ErrClaimType, signed(func(m map[string]any) { m["exp"] = "tomorrow" })},
		{"expired", engine.ErrExpired, signed(func(m map[string]any) { m["exp"] = epoch.Add(-time.Hour).Unix() })},
		{"not yet valid", engine.ErrNotYetValid, signed(func(m map[string]any) { m["nbf"] = epoch.Add(time.Hour).Unix() })},
		{"wrong issuer", engine.ErrIssuer, signed(func(m map[string]any) { m["iss"] = "https://evil.example" })},
		{"wrong audience", engine.ErrAudience, signed(func(m map[string]any) { m["aud"] = "api://other" })},
		{"missing scope", engine.ErrScope, signed(func(m map[string]any) { m["scope"] = "openid" })},
		{"expired while cached", engine.ErrExpired, func(t *testing.T, f *fixture, res *engine.Token) error {
			claims := accessClaims()
			claims["exp"] = epoch.Add(time.Minute).Unix()
			claims["jti"] = "short-lived"
			tok := []byte(f.token(t, claims))
			var first engine.Token
			if err := f.v.Verify(tok, &first); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Hour)
			return f.v.Verify(tok, res)
		}},
		{"key retired while cached", engine.ErrUnknownKid, func(t *testing.T, f *fixture, res *engine.Token) error {
			other := sign.MustGenerate(engine.HS256, "retiring")
			k, err := other.EngineKey()
			if err != nil {
				t.Fatal(err)
			}
			f.lookup.keys = append(f.lookup.keys, k)
			tok, err := other.Sign(accessClaims())
			if err != nil {
				t.Fatal(err)
			}
			var first engine.Token
			if err := f.v.VerifyString(tok, &first); err != nil {
				t.Fatal(err)
			}
			f.lookup.keys = f.lookup.keys[:1]
			k.Retire()
			return f.v.VerifyString(tok, res)
		}},
		{"signature only, forged", engine.ErrBadSignature, func(t *testing.T, f *fixture, res *engine.Token) error {
			tok, err := sign.MustGenerate(engine.HS256, f.signer.Kid).SignRaw([]byte(`{"alg":"HS256","kid":"`+f.signer.Kid+`"}`), []byte("sub=admin"))
			if err != nil {
				t.Fatal(err)
			}
			return f.v.VerifySignature([]byte(tok), res)
		}},
	}
	for _, reused := range []bool{false, true} {
		for _, c := range failures {
			name := c.name + "/fresh"
			if reused {
				name = c.name + "/reused"
			}
			t.Run(name, func(t *testing.T) {
				f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.RequiredScopes = []string{"read:orders"} })
				var res engine.Token
				if reused {
					fillToken(t, f, &res)
				}
				if err := c.run(t, f, &res); !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
				assertEmpty(t, &res)
			})
		}
	}
}

// fillToken verifies a valid token into res twice, the second time from the
// cache with an attachment, so that every accessor has something to return.
func fillToken(t *testing.T, f *fixture, res *engine.Token) {
	t.Helper()
	claims := accessClaims()
	claims["aud"] = []string{testAudience, "other", "third", "fourth", "fifth"}
	claims["tenant"] = "acme"
	tok := []byte(f.token(t, claims))
	if err := f.v.Verify(tok, res); err != nil {
		t.Fatal(err)
	}
	f.v.Attach(res, []byte("X-Auth-Subject: user-1234567890"))
	if err := f.v.Verify(tok, res); err != nil || !res.FromCache() || res.Attachment() == nil || len(res.Claims.Subject) == 0 {
		t.Fatalf("valid token: err=%v cached=%v attachment=%q", err, res.FromCache(), res.Attachment())
	}
}

// assertEmpty fails unless every accessor of res returns nothing.
func assertEmpty(t *testing.T, res *engine.Token) {
	t.Helper()
	c, h := &res.Claims, &res.Header
	if len(c.Issuer)+len(c.Subject)+len(c.ID)+len(c.Audience)+len(c.Scope)+len(c.Raw()) != 0 ||
		c.ExpiresAt != 0 || c.NotBefore != 0 || c.IssuedAt != 0 || c.HasExpiresAt() || c.HasNotBefore() || c.HasIssuedAt() {
		t.Errorf("claims readable after a failed verify: %+v raw=%q", *c, c.Raw())
	}
	for _, name := range []string{"sub", "iss", "aud", "tenant", "scope"} {
		if v, ok := c.Lookup(name); ok || v != nil || c.Has(name) {
			t.Errorf("Lookup(%q) = %q, %v after a failed verify", name, v, ok)
		}
	}
	if c.HasScope("read:orders") || c.HasScope("openid") || c.HasAudience(testAudience) {
		t.Error("HasScope/HasAudience true after a failed verify")
	}
	var m map[string]any
	if err := c.Decode(&m); err == nil || len(m) != 0 {
		t.Errorf("Decode = %v, %v after a failed verify; want an error and nothing", m, err)
	}
	if h.Alg != engine.AlgUnknown || h.Kid != nil || h.HasKid || h.Typ != nil || h.Cty != nil || h.Raw() != nil {
		t.Errorf("header readable after a failed verify: %+v raw=%q", *h, h.Raw())
	}
	if res.Payload() != nil || res.Attachment() != nil || res.Key() != nil || res.FromCache() {
		t.Errorf("payload %q, attachment %q, key %v, cached %v after a failed verify",
			res.Payload(), res.Attachment(), res.Key(), res.FromCache())
	}
}
