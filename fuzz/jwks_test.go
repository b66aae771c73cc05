package fuzz

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// jwksSkipReasons are the reasons a skipped key may give.
var jwksSkipReasons = []error{
	engine.ErrInvalidKey, keystore.ErrMalformedJWK, keystore.ErrUnsupportedKey,
	keystore.ErrNotForVerification, keystore.ErrKeyUseConflict, keystore.ErrNoAlgorithm,
	keystore.ErrPrivateKeyMaterial, keystore.ErrCertificateMismatch,
}

// jwksDocErrors are the errors a whole document may fail with.
var jwksDocErrors = []error{
	keystore.ErrNotJWKS, keystore.ErrDocumentTooLarge, keystore.ErrTooManyKeys,
	keystore.ErrAmbiguousKid, keystore.ErrNoUsableKeys, keystore.ErrMixedSymmetry,
}

// jwksSeeds returns seed documents: the public half of the fixed test keys
// (every key type), and hostile edits of them.
func jwksSeeds(tb testing.TB) (accepted, rejected [][]byte) {
	data, err := os.ReadFile(filepath.Join("testdata", "keys.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var keys []map[string]any
	if err := json.Unmarshal(data, &keys); err != nil {
		tb.Fatal(err)
	}
	var public, secrets []any // a set holds one kind or the other
	for _, k := range keys {
		if k["kty"] == "oct" {
			secrets = append(secrets, k)
			continue
		}
		for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			delete(k, priv)
		}
		public = append(public, k)
	}
	doc := func(keys ...any) []byte {
		b, err := json.Marshal(map[string]any{"keys": keys})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	edit := func(i int, kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range public[i%len(public)].(map[string]any) {
			m[k] = v
		}
		for j := 0; j+1 < len(kv); j += 2 {
			if kv[j+1] == nil {
				delete(m, kv[j].(string))
			} else {
				m[kv[j].(string)] = kv[j+1]
			}
		}
		return m
	}
	accepted = [][]byte{
		doc(public...),
		doc(secrets...),
		doc(edit(0, "alg", nil), edit(1, "alg", nil)),  // inferred algorithms
		doc(edit(0, "x5t", "AA"), edit(1, "kid", nil)), // x5t without x5c is informational
	}
	rejected = [][]byte{
		doc(public[0], public[0]), // same kid and alg twice
		doc(edit(0, "e", "AQ"), edit(0, "e", "AQAA"), edit(0, "n", "AQAB")), // e=1, even e, tiny modulus
		doc(edit(2, "y", "AAAA"), edit(2, "x", 7), edit(2, "crv", "P-384")),
		doc(edit(0, "use", "enc"), edit(0, "key_ops", []string{"verify", "encrypt"}), edit(0, "key_ops", "verify")),
		doc(edit(0, "x5c", []string{"MIIB"}), edit(0, "x5c", []any{})),
		doc(edit(3, "kty", "oct", "k", "c2hvcnQ", "alg", "HS256")),
		doc(append(public[:1:1], secrets...)...), // secrets mixed with a public key
		doc(edit(1, "d", "AQAB")),
		[]byte(`{"keys":[]}`),
		[]byte(`{"keys":[{"kty":"EC","kid":"a","kid":"b"}]}`),
		[]byte(`{"keys":[1,"x",null,[],{}]}`),
		[]byte(`{"keys":{}}`),
		[]byte(`{"keys":[],"keys":[]}`),
		[]byte(`{"keys":[]} {}`),
		[]byte(`[{"keys":[]}]`),
		[]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + strings.Repeat("A", 43) + `"}]}`), // small order
		[]byte(`{"keys":[{"kty":"RSA","n":"` + strings.Repeat("_", 1400) + `","e":"AQAB"}]}`),
		[]byte(`{"keys":[{"kty":"EC","crv":"P-521","x":"","y":""}]}`),
		[]byte(`{"keys":[{"kty":"RSA","e":"\u0041QAB","n":"AQAB"}]}`),
		[]byte(strings.Repeat("[", 200)),
		nil,
	}
	return accepted, rejected
}

// FuzzParseJWKS feeds arbitrary documents to keystore.ParseJWKS. It must
// never panic; every key it returns must be usable (bound to a valid
// algorithm, verifying without panicking, unambiguous); every skipped key
// and every failure must carry one of the documented typed reasons; and the
// input size is bounded.
func FuzzParseJWKS(f *testing.F) {
	accepted, rejected := jwksSeeds(f)
	for _, s := range append(accepted, rejected...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, skipped, err := keystore.ParseJWKS(data, keystore.ParseOptions{})
		for _, s := range skipped {
			var ke *keystore.KeyError
			if !errors.As(s, &ke) || ke.Err == nil || !isOneOf(s, jwksSkipReasons) {
				t.Fatalf("skipped key without a typed reason: %#v", s)
			}
		}
		if err != nil {
			if keys != nil {
				t.Fatalf("keys returned with error %v", err)
			}
			if !isOneOf(err, jwksDocErrors) {
				t.Fatalf("untyped document error: %v", err)
			}
			return
		}
		if len(data) > keystore.DefaultMaxBody {
			t.Fatalf("a %d-byte document was accepted", len(data))
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		type kidAlg struct {
			kid string
			alg engine.Alg
		}
		seen := map[kidAlg]bool{}
		for _, k := range keys {
			if k == nil || !k.Alg().Valid() {
				t.Fatalf("unusable key %v", k)
			}
			if k.Alg().Family() != engine.FamilyHMAC && k.Public() == nil {
				t.Fatalf("%s key without public material", k.Alg())
			}
			if k.Kid() != "" {
				if seen[kidAlg{k.Kid(), k.Alg()}] {
					t.Fatalf("ambiguous kid %q accepted", k.Kid())
				}
				seen[kidAlg{k.Kid(), k.Alg()}] = true
			}
			sig := make([]byte, 132)
			for _, n := range []int{0, 32, 64, 96, 132, 256, 512} {
				if k.Verify([]byte("e30.e30"), sig[:min(n, len(sig))]) == nil {
					t.Fatalf("%s key accepted a zero signature of %d bytes", k.Alg(), n)
				}
			}
		}
		again, _, err := keystore.ParseJWKS(data, keystore.ParseOptions{})
		if err != nil || len(again) != len(keys) {
			t.Fatalf("second parse differs: %v", err)
		}
		for i := range keys {
			if !keys[i].Equal(again[i]) {
				t.Fatalf("key %d differs between two parses", i)
			}
		}
	})
}

func isOneOf(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// TestParseJWKSSeeds checks that the seeds exercise both outcomes.
func TestParseJWKSSeeds(t *testing.T) {
	accepted, rejected := jwksSeeds(t)
	keys, skipped, err := keystore.ParseJWKS(accepted[0], keystore.ParseOptions{})
	if err != nil || len(skipped) != 0 || len(keys) < 5 {
		t.Fatalf("fixed keys: %d keys, skipped %v, err %v", len(keys), skipped, err)
	}
	for i, s := range accepted {
		if _, _, err := keystore.ParseJWKS(s, keystore.ParseOptions{}); err != nil {
			t.Errorf("seed %d rejected: %v", i, err)
		}
	}
	for i, s := range rejected {
		if _, _, err := keystore.ParseJWKS(s, keystore.ParseOptions{}); err == nil {
			t.Errorf("hostile seed %d accepted: %s", i, s)
		}
	}
}
