package bench

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// fixture is shared by every test and benchmark of one process: RSA key
// generation is slow, and the benchmarks must verify the tokens the tests
// checked.
var fixture = sync.OnceValues(NewFixture)

func mustFixture(tb testing.TB) *Fixture {
	tb.Helper()
	f, err := fixture()
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestLibrariesAgree proves that every compared verifier is configured to
// check the same things: each, trusting the key set of an algorithm, accepts
// its valid token and rejects every hostile one (tampered, wrong iss, the
// other set's iss, wrong aud, expired, no exp, nbf or iat in the future,
// unknown kid, alg none, alg confusion and mismatch).
func TestLibrariesAgree(t *testing.T) {
	f := mustFixture(t)
	for _, lib := range Libs {
		t.Run(lib.Name, func(t *testing.T) {
			for _, alg := range Algs {
				bind, err := lib.New(f, f.Set(alg))
				if err != nil {
					t.Fatal(err)
				}
				if err := CheckCases(f, lib, bind, alg); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestKeySets checks the fixture's key sets: the public keys and the HMAC
// secret in separate sets with distinct issuers (jwtgate refuses a set that
// mixes them), every algorithm's key in its own set, and the valid tokens
// issued by their set's issuer.
func TestKeySets(t *testing.T) {
	f := mustFixture(t)
	if f.Public.Issuer == f.Secret.Issuer {
		t.Fatalf("both key sets have issuer %q", f.Public.Issuer)
	}
	for _, set := range f.Sets() {
		if _, _, err := keystore.ParseJWKS(set.JWKS, keystore.ParseOptions{}); err != nil {
			t.Errorf("%s: %v", set.Issuer, err)
		}
	}
	for _, alg := range Algs {
		set := f.Set(alg)
		n := 0
		for _, k := range set.Keys {
			if (k.Alg.Family() == engine.FamilyHMAC) != (alg.Family() == engine.FamilyHMAC) {
				t.Errorf("%s: key %s in the set of %s", set.Issuer, k.Kid, alg)
			}
			if k == f.Keys[alg] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: its key is %d times in its set", alg, n)
		}
		if c := f.Claims(alg); c.Issuer != set.Issuer {
			t.Errorf("%s: tokens issued by %q, its set's issuer is %q", alg, c.Issuer, set.Issuer)
		}
	}
}

// TestFixtureCases checks the case table itself: every algorithm has the
// valid token first, the claim-only cases that prove iss/aud/exp checking,
// and the signature cases that even the primitive must reject.
func TestFixtureCases(t *testing.T) {
	f := mustFixture(t)
	for _, alg := range Algs {
		cases := f.Cases(alg)
		if len(cases) == 0 || !cases[0].Valid || cases[0].Token != f.Token(alg) {
			t.Fatalf("%s: the first case must be the valid token", alg)
		}
		names := map[string]bool{}
		for _, c := range cases[1:] {
			if c.Valid {
				t.Errorf("%s: case %s marked valid", alg, c.Name)
			}
			if names[c.Name] {
				t.Errorf("%s: case %s twice", alg, c.Name)
			}
			names[c.Name] = true
		}
		for _, want := range []string{"tampered-payload", "tampered-signature", "wrong-iss", "other-set-iss", "wrong-aud", "expired", "no-exp", "not-yet-valid", "issued-in-future", "unknown-kid", "alg-none"} {
			if !names[want] {
				t.Errorf("%s: no %s case", alg, want)
			}
		}
	}
}

// TestClockIsHonored proves each library reads the shared clock: seven hours
// on, past Lifetime and the leeway, the valid token must be rejected by every
// verifier that checks claims.
func TestClockIsHonored(t *testing.T) {
	f := mustFixture(t)
	late := f.WithClock(func() time.Time { return f.Minted.Add(Lifetime + Leeway + time.Hour) })
	for _, lib := range Libs {
		if lib.Primitive {
			continue // reads no claims, so no clock
		}
		for _, alg := range Algs {
			bind, err := lib.New(late, late.Set(alg))
			if err != nil {
				t.Fatal(err)
			}
			if err := bind(late.Token(alg))(); err == nil {
				t.Errorf("%s %s: accepted a token %v past its exp", lib.Name, alg, time.Hour)
			}
		}
	}
}

// TestJWTGateVariants checks that the two jwtgate variants measure what their
// names say: "jwtgate" verifies with the cache off, "jwtgate-cached" answers
// a repeated token from the cache.
func TestJWTGateVariants(t *testing.T) {
	f := mustFixture(t)
	for _, alg := range Algs {
		uncached, err := newJWTGateVerifier(f, f.Set(alg), -1)
		if err != nil {
			t.Fatal(err)
		}
		if uncached.Cache() != nil {
			t.Fatal("jwtgate variant has a cache")
		}
		cached, err := newJWTGateVerifier(f, f.Set(alg), 0)
		if err != nil {
			t.Fatal(err)
		}
		raw := []byte(f.Token(alg))
		var tok engine.Token
		for i := range 2 {
			if err := uncached.Verify(raw, &tok); err != nil || tok.FromCache() {
				t.Fatalf("%s uncached verify %d: err %v, from cache %v", alg, i, err, tok.FromCache())
			}
			if err := cached.Verify(raw, &tok); err != nil || tok.FromCache() != (i == 1) {
				t.Fatalf("%s cached verify %d: err %v, from cache %v", alg, i, err, tok.FromCache())
			}
		}
	}
}

// TestJWTGateRejectsPrecisely checks the reasons jwtgate gives for the
// hostile tokens, so that the agreement above is for the right reasons.
func TestJWTGateRejectsPrecisely(t *testing.T) {
	f := mustFixture(t)
	want := map[string]error{
		"tampered-payload":    engine.ErrBadSignature,
		"tampered-signature":  engine.ErrBadSignature,
		"wrong-iss":           engine.ErrIssuer,
		"other-set-iss":       engine.ErrIssuer,
		"wrong-aud":           engine.ErrAudience,
		"expired":             engine.ErrExpired,
		"unknown-kid":         engine.ErrUnknownKid,
		"alg-confusion-HS256": engine.ErrAlgMismatch,
		"alg-mismatch-PS256":  engine.ErrAlgMismatch,
		"alg-mismatch-RS256":  engine.ErrAlgMismatch,
		"no-exp":              engine.ErrMissingClaim,
		"not-yet-valid":       engine.ErrNotYetValid,
		"issued-in-future":    engine.ErrIssuedInFuture,
		"alg-none":            engine.ErrAlgNone,
		"valid":               nil,
	}
	for _, alg := range Algs {
		v, err := newJWTGateVerifier(f, f.Set(alg), -1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range f.Cases(alg) {
			w, ok := want[c.Name]
			if !ok {
				t.Fatalf("no expected reason for case %s", c.Name)
			}
			var tok engine.Token
			err := v.Verify([]byte(c.Token), &tok)
			if w == nil {
				if err != nil {
					t.Errorf("%s %s: %v", alg, c.Name, err)
				}
				continue
			}
			if !errors.Is(err, w) {
				t.Errorf("%s %s: got %v, want %v", alg, c.Name, err, w)
			}
		}
	}
}

// BenchmarkVerify verifies the same valid token with each library, for each
// algorithm. Names group for benchstat: Verify/alg=RS256/lib=jwtgate. Each
// variant first re-proves, on its own instance, that it accepts the valid
// token and rejects every hostile one, and every iteration must succeed.
//
// Besides ns/op (wall time) it reports cpu-ns/op: the CPU time the whole
// process spent per verification, garbage collection on other threads
// included. That is what a saturated gateway pays per token, and unlike wall
// time it barely moves when other work shares the machine's cores.
func BenchmarkVerify(b *testing.B) {
	f := mustFixture(b)
	for _, alg := range Algs {
		b.Run("alg="+alg.String(), func(b *testing.B) {
			for _, lib := range Libs {
				b.Run("lib="+lib.Name, func(b *testing.B) {
					bind, err := lib.New(f, f.Set(alg))
					if err != nil {
						b.Fatal(err)
					}
					if err := CheckCases(f, lib, bind, alg); err != nil {
						b.Fatal(err)
					}
					check := bind(f.Token(alg))
					if err := check(); err != nil { // warms a cache, if the library has one
						b.Fatal(err)
					}
					b.ReportAllocs()
					runtime.GC() // the setup's garbage is not the measured library's
					cpu := processCPU()
					for b.Loop() {
						if err := check(); err != nil {
							b.Fatal(err)
						}
					}
					if cpu >= 0 {
						b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
					}
				})
			}
		})
	}
}
