package keystore

import (
	"errors"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// TestRotation follows an issuer rotating its key — K1; K1+K2; signing with
// K2; K1 dropped — through the background refresh and the unknown-kid path,
// with a Verifier and its verified-token cache on top. No valid token is
// ever rejected, and K1's tokens (cached or not) stop verifying after the
// refresh that drops K1.
func TestRotation(t *testing.T) {
	k1 := signer(t, engine.RS256, "rot-1")
	k2 := signer(t, engine.RS256, "rot-2")
	k3 := signer(t, engine.RS256, "rot-3")
	f := newRemoteFixture(t, nil)
	f.srv.set(jwks(t, jwk(t, k1)))
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, f.s, f.clock)
	var tok engine.Token
	accept := func(step, name string, token []byte, cached bool) {
		t.Helper()
		if err := v.Verify(token, &tok); err != nil {
			t.Fatalf("%s: valid %s token rejected: %v", step, name, err)
		}
		if cached && !tok.FromCache() {
			t.Fatalf("%s: %s token not answered from the cache", step, name)
		}
	}
	t1, t1b := token(t, k1, testIssuer), token(t, k1, testIssuer)

	// 1. K1 only.
	accept("K1", "K1", t1, false)
	accept("K1", "K1", t1, true)
	key1 := tok.Key()

	// 2. The issuer publishes K2 next to K1; the background refresh picks it up.
	f.srv.set(jwks(t, jwk(t, k1), jwk(t, k2)))
	accept("K1+K2 published", "K1", t1, true)
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.LookupKey(nil, []byte("rot-1"), engine.RS256); got != key1 || key1.Retired() {
		t.Fatal("K1 must keep its pointer across a refresh that keeps it")
	}
	accept("K1+K2 refreshed", "K1", t1, true)

	// 3. The issuer signs with K2.
	t2 := token(t, k2, testIssuer)
	accept("signing with K2", "K2", t2, false)
	accept("signing with K2", "K1", t1, true)

	// 3b. A key published and used before any refresh: the first token
	// carrying it triggers the one unknown-kid refetch.
	f.srv.set(jwks(t, jwk(t, k1), jwk(t, k2), jwk(t, k3)))
	before := f.srv.requests.Load()
	t3 := token(t, k3, testIssuer)
	accept("K3 before refresh", "K3", t3, false)
	if f.srv.requests.Load() != before+1 {
		t.Fatal("the unknown kid did not refetch exactly once")
	}

	// 4. The issuer drops K1. Until the next refresh, K1 tokens still verify;
	// after it they are refused as tokens of a removed key.
	f.srv.set(jwks(t, jwk(t, k2), jwk(t, k3)))
	accept("K1 dropped, not refreshed", "K1", t1, true)
	accept("K1 dropped, not refreshed", "K1", t1b, false)
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	if !key1.Retired() {
		t.Fatal("the dropped key was not retired")
	}
	for name, tk := range map[string][]byte{"cached K1": t1, "other K1": t1b, "fresh K1": token(t, k1, testIssuer)} {
		err := v.Verify(tk, &tok)
		if !errors.Is(err, engine.ErrKeyRemoved) {
			t.Fatalf("%s token after the refresh that dropped K1: %v, want ErrKeyRemoved", name, err)
		}
	}
	accept("K1 gone", "K2", t2, true)
	accept("K1 gone", "K3", t3, true)
}

// TestIssuerIsolation: a key never verifies another issuer's tokens
// (RFC 8725 §3.8), even when both issuers use the same kid.
func TestIssuerIsolation(t *testing.T) {
	ka := signer(t, engine.ES256, "iso")
	kb := signer(t, engine.ES384, "iso-b")
	b := jwk(t, kb)
	b["kid"] = "iso"
	s, err := New(Options{Clock: newFakeClock()},
		Issuer{Issuer: "https://a.example", JWKS: jwks(t, jwk(t, ka))},
		Issuer{Issuer: "https://b.example", JWKS: jwks(t, b)},
	)
	if err != nil {
		t.Fatal(err)
	}
	v, err := engine.New(engine.Config{Keys: s, Issuers: []string{"https://a.example", "https://b.example"}, Audiences: []string{testAudience}, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	var tok engine.Token
	if err := v.Verify(token(t, ka, "https://a.example"), &tok); err != nil {
		t.Fatal(err)
	}
	// A's key signs a token claiming to be from B: it is routed to B's keys.
	err = v.Verify(token(t, ka, "https://b.example"), &tok)
	if !errors.Is(err, engine.ErrAlgMismatch) {
		t.Fatalf("cross-issuer token: %v", err)
	}
	kb2 := signer(t, engine.ES256, "iso-b2")
	fake := jwk(t, kb2)
	fake["kid"] = "iso"
	s2, err := New(Options{},
		Issuer{Issuer: "https://a.example", JWKS: jwks(t, jwk(t, ka))},
		Issuer{Issuer: "https://b.example", JWKS: jwks(t, fake)},
	)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := engine.New(engine.Config{Keys: s2, Issuers: []string{"https://a.example", "https://b.example"}, Audiences: []string{testAudience}, Clock: newFakeClock()})
	if err := v2.Verify(token(t, ka, "https://b.example"), &tok); !errors.Is(err, engine.ErrBadSignature) {
		t.Fatalf("same kid and alg, other issuer: %v", err)
	}
	if err := v2.Verify(token(t, ka, "https://c.example"), &tok); !errors.Is(err, engine.ErrUnknownIssuer) {
		t.Fatalf("unknown issuer: %v", err)
	}
}
