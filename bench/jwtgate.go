package bench

import (
	"log/slog"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// newJWTGate configures jwtgate with its verified-token cache off, so that
// every call does the full parse, key lookup, signature and policy work.
func newJWTGate(f *Fixture, set *KeySet) (Bind, error) { return bindJWTGate(f, set, -1) }

// newJWTGateCached configures jwtgate as it ships: the verified-token cache
// on, so a token seen before skips the cryptography (its exp, nbf and key
// are checked again on every hit).
func newJWTGateCached(f *Fixture, set *KeySet) (Bind, error) { return bindJWTGate(f, set, 0) }

func bindJWTGate(f *Fixture, set *KeySet, cacheEntries int) (Bind, error) {
	v, err := newJWTGateVerifier(f, set, cacheEntries)
	if err != nil {
		return nil, err
	}
	return func(token string) Check {
		raw := []byte(token)
		t := new(engine.Token) // reused per goroutine, as the server does
		return func() error { return v.Verify(raw, t) }
	}, nil
}

func newJWTGateVerifier(f *Fixture, set *KeySet, cacheEntries int) (*engine.Verifier, error) {
	clock := clockFunc(f.Now)
	// The key store as the server builds it, from the same JWKS document the
	// other libraries parse: lookups by kid in a lock-free snapshot.
	keys, err := keystore.New(keystore.Options{Clock: clock, Logger: quiet}, keystore.Issuer{Issuer: set.Issuer, JWKS: set.JWKS})
	if err != nil {
		return nil, err
	}
	return engine.New(engine.Config{
		Keys:         keys,
		Issuers:      []string{set.Issuer},
		Audiences:    []string{Audience},
		Algorithms:   Algs,
		Leeway:       Leeway,
		Clock:        clock,
		CacheEntries: cacheEntries,
	})
}

// quiet discards the key store's log lines: one per verifier built.
var quiet = slog.New(slog.DiscardHandler)

// clockFunc adapts a time function to engine.Clock.
type clockFunc func() time.Time

// Now implements engine.Clock.
func (c clockFunc) Now() time.Time { return c() }
