package engine_test

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// testKeys is a KeyLookup over a fixed list of keys of one issuer, with the
// same rules as the keystore: match by kid; without kid, the one key of the
// token's algorithm.
type testKeys struct{ keys []*engine.Key }

func (s *testKeys) LookupKey(iss, kid []byte, alg engine.Alg) (*engine.Key, error) {
	if len(kid) == 0 {
		var found *engine.Key
		for _, k := range s.keys {
			if k.Alg() == alg {
				if found != nil {
					return nil, engine.KidRequiredError(alg, k.Alg())
				}
				found = k
			}
		}
		if found == nil && len(s.keys) > 0 {
			return s.keys[0], nil // the verifier reports the mismatch
		}
		if found == nil {
			return nil, engine.ErrUnknownKid
		}
		return found, nil
	}
	for _, k := range s.keys {
		if k.Kid() == string(kid) {
			return k, nil
		}
	}
	return nil, engine.ErrUnknownKid
}

// fakeClock is a settable clock.
type fakeClock = clocktest.Clock

func newFakeClock(t time.Time) *fakeClock { return clocktest.New(t) }

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api://gateway"
)

// accessClaims are the claims of a realistic access token, valid at epoch.
func accessClaims() map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"sub":   "user-1234567890",
		"aud":   testAudience,
		"exp":   epoch.Add(time.Hour).Unix(),
		"iat":   epoch.Add(-time.Minute).Unix(),
		"nbf":   epoch.Add(-time.Minute).Unix(),
		"jti":   "3f1c9b0e-7a2d-4c5e-9f8a-1b2c3d4e5f60",
		"scope": "openid profile read:orders write:orders",
	}
}

// fixture is a signing key, its engine key, and a verifier trusting it.
type fixture struct {
	signer *sign.Key
	key    *engine.Key
	lookup *testKeys
	clock  *fakeClock
	v      *engine.Verifier
}

func newFixture(tb testing.TB, alg engine.Alg, mod func(*engine.Config)) *fixture {
	tb.Helper()
	s := sign.MustGenerate(alg, "k-"+alg.String())
	k, err := s.EngineKey()
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{signer: s, key: k, clock: newFakeClock(epoch), lookup: &testKeys{keys: []*engine.Key{k}}}
	cfg := engine.Config{
		Keys:         f.lookup,
		Issuers:      []string{testIssuer},
		Audiences:    []string{testAudience},
		Clock:        f.clock,
		CacheEntries: -1,
	}
	if mod != nil {
		mod(&cfg)
	}
	if f.v, err = engine.New(cfg); err != nil {
		tb.Fatal(err)
	}
	return f
}

// keys returns the fixture's key list, to change what the "store" holds.
func (f *fixture) keys() *testKeys { return f.lookup }

func (f *fixture) token(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	tok, err := f.signer.Sign(claims)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
