package sign_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// Every algorithm: a generated key signs a token its engine key verifies,
// and the private JWK round-trips to a key that signs the same way.
func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range engine.Algorithms() {
		k := sign.MustGenerate(alg, "k-"+alg.String())
		raw, err := json.Marshal(k.PrivateJWK())
		if err != nil {
			t.Fatal(err)
		}
		back, err := sign.ParsePrivateJWK(raw)
		if err != nil {
			t.Fatalf("%v: ParsePrivateJWK: %v", alg, err)
		}
		pub, err := k.EngineKey()
		if err != nil {
			t.Fatalf("%v: EngineKey: %v", alg, err)
		}
		for _, signer := range []*sign.Key{k, back} {
			tok, err := signer.Sign(map[string]any{"sub": "alice"})
			if err != nil {
				t.Fatal(err)
			}
			var res engine.Token
			if err := engine.ParseUnverified([]byte(tok), &res); err != nil {
				t.Fatalf("%v: %v", alg, err)
			}
			dot := strings.LastIndexByte(tok, '.')
			if err := pub.Verify([]byte(tok[:dot]), signatureOf(t, tok[dot+1:])); err != nil {
				t.Errorf("%v: signature does not verify: %v", alg, err)
			}
			if res.Header.Alg != alg || string(res.Header.Kid) != "k-"+alg.String() || string(res.Claims.Subject) != "alice" {
				t.Errorf("%v: header/claims not as signed: %+v", alg, res.Header)
			}
		}
	}
}

func TestJWKSHasOnlyPublicMembers(t *testing.T) {
	k := sign.MustGenerate(engine.ES256, "e1")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(sign.JWKS(k), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS: %v %v", err, set)
	}
	if _, leaked := set.Keys[0]["d"]; leaked {
		t.Fatal("public JWKS carries the private key")
	}
}

func signatureOf(t *testing.T, seg string) []byte {
	t.Helper()
	sig, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
