package engine_test

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// TestRSAPSSAllocs pins the PS256, PS384 and PS512 check at zero
// allocations for a 2048-bit key (the Verifier path is pinned by
// TestVerifyAllocs).
func TestRSAPSSAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("header.payload")
	for _, alg := range []engine.Alg{engine.PS256, engine.PS384, engine.PS512} {
		key, err := engine.NewKey(alg, "", &priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		h := alg.Hash()
		hh := h.New()
		hh.Write(msg)
		digest := hh.Sum(nil)
		sig, err := rsa.SignPSS(rand.Reader, priv, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Fatal(err)
		}
		if got := testing.AllocsPerRun(20, func() {
			if !engine.VerifyRSAPSS(key, digest, sig) {
				t.Fatal("rejected")
			}
		}); got != 0 {
			t.Errorf("%v: verifyPSS allocates %.0f times, want 0", alg, got)
		}
	}
}
