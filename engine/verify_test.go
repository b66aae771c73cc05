package engine_test

import (
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

func TestVerifyAllAlgorithms(t *testing.T) {
	for _, alg := range engine.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			f := newFixture(t, alg, nil)
			tok := f.token(t, accessClaims())
			var res engine.Token
			if err := f.v.VerifyString(tok, &res); err != nil {
				t.Fatalf("valid token rejected: %v", err)
			}
			if got := string(res.Claims.Subject); got != "user-1234567890" {
				t.Errorf("sub = %q", got)
			}
			if res.Header.Alg != alg || res.Key() != f.key {
				t.Errorf("alg %v key %p, want %v %p", res.Header.Alg, res.Key(), alg, f.key)
			}
		})
	}
}

// TestVerifyAllocs pins jwtgate's allocations: its own code allocates
// nothing, so the full verify allocates exactly what the bare standard-library
// primitive does (nothing for HS* and EdDSA; crypto/rsa and crypto/ecdsa
// allocate inside), except RS*, whose precomputed-modulus verify allocates
// nothing at all.
func TestVerifyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	for _, alg := range engine.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			f := newFixture(t, alg, nil)
			tok := f.token(t, accessClaims())
			var res engine.Token
			got := testing.AllocsPerRun(50, func() {
				if err := f.v.VerifyString(tok, &res); err != nil {
					t.Fatal(err)
				}
			})
			check := floorVerifier(t, f, tok)
			floor := testing.AllocsPerRun(50, func() {
				if !check() {
					t.Fatal("floor rejected the token")
				}
			})
			if alg.Family() == engine.FamilyRSA {
				if got != 0 {
					t.Errorf("%v verify allocates %.0f times, want 0", alg, got)
				}
			} else if got != floor {
				t.Errorf("verify allocates %.0f times per token, the bare primitive %.0f", got, floor)
			}
			if fam := alg.Family(); (fam == engine.FamilyHMAC || fam == engine.FamilyOKP) && got != 0 {
				t.Errorf("%v verify allocates %.0f times, want 0", alg, got)
			}
		})
	}
}
