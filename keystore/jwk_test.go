package keystore

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// verifies checks that key verifies a signature of s.
func verifies(t *testing.T, key *engine.Key, s *sign.Key) {
	t.Helper()
	input := []byte("header.payload")
	sig, err := s.SignInput(input)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Verify(input, sig); err != nil {
		t.Fatalf("%s key does not verify its signer's signature: %v", key.Alg(), err)
	}
}

func TestParseJWKSEveryKeyType(t *testing.T) {
	for _, alg := range engine.Algorithms() {
		s := signer(t, alg, "k-"+alg.String())
		keys, skipped, err := ParseJWKS(jwks(t, jwk(t, s)), ParseOptions{})
		if err != nil || len(skipped) != 0 || len(keys) != 1 {
			t.Fatalf("%s: keys %d, skipped %v, err %v", alg, len(keys), skipped, err)
		}
		if keys[0].Alg() != alg || keys[0].Kid() != s.Kid {
			t.Fatalf("%s: got %s kid %q", alg, keys[0].Alg(), keys[0].Kid())
		}
		verifies(t, keys[0], s)
	}
}

func TestParseJWKSInfersAlgorithm(t *testing.T) {
	cases := []struct {
		alg     engine.Alg // the signer's
		allowed []engine.Alg
		want    engine.Alg
	}{
		{engine.RS256, nil, engine.RS256},
		{engine.PS384, nil, engine.RS256}, // an RSA key is RS256 unless configured otherwise
		{engine.PS384, []engine.Alg{engine.ES256, engine.PS384, engine.RS256}, engine.PS384},
		{engine.ES256, nil, engine.ES256},
		{engine.ES384, nil, engine.ES384},
		{engine.ES512, nil, engine.ES512},
		{engine.ES384, []engine.Alg{engine.ES256, engine.ES384}, engine.ES384},
		{engine.EdDSA, nil, engine.EdDSA},
	}
	for _, c := range cases {
		m := jwk(t, signer(t, c.alg, "infer"))
		delete(m, "alg")
		k, err := keyOf(t, m, c.allowed...)
		if err != nil {
			t.Fatalf("%s with %v: %v", c.alg, c.allowed, err)
		}
		if k.Alg() != c.want {
			t.Fatalf("%s with %v: inferred %s, want %s", c.alg, c.allowed, k.Alg(), c.want)
		}
	}
}

func TestParseJWKSNoAlgorithm(t *testing.T) {
	m := jwk(t, signer(t, engine.RS256, "r"))
	delete(m, "alg")
	_, err := keyOf(t, m, engine.ES256, engine.EdDSA)
	if !errors.Is(err, ErrNoAlgorithm) {
		t.Fatalf("err %v, want ErrNoAlgorithm", err)
	}
	mustContain(t, err.Error(), "an RSA key without \"alg\" fits none of the allowed algorithms (ES256, EdDSA)")

	m = jwk(t, signer(t, engine.ES384, "e"))
	delete(m, "alg")
	_, err = keyOf(t, m, engine.ES256)
	mustContain(t, err.Error(), "an EC P-384 key without \"alg\" fits none of the allowed algorithms (ES256)")

	m = jwk(t, signer(t, engine.HS256, "h"))
	delete(m, "alg")
	_, err = keyOf(t, m, engine.HS256)
	if !errors.Is(err, ErrNoAlgorithm) {
		t.Fatalf("err %v, want ErrNoAlgorithm", err)
	}
	mustContain(t, err.Error(), "an HMAC algorithm is never inferred")
}

// rocaModulus reads a 2048-bit modulus with the ROCA structure (modulo every
// fingerprint prime a power of 65537), made once by the engine's tests.
func rocaModulus(t *testing.T) *big.Int {
	b, err := os.ReadFile("testdata/roca-modulus.hex")
	if err != nil {
		t.Fatal(err)
	}
	n, ok := new(big.Int).SetString(strings.TrimSpace(string(b)), 16)
	if !ok || n.BitLen() != 2048 {
		t.Fatal("testdata/roca-modulus.hex is not a 2048-bit hex number")
	}
	return n
}

// hostileCase is a JWK edited into something ParseJWKS must skip.
type hostileCase struct {
	name string
	alg  engine.Alg // the signer whose JWK is edited
	edit func(t *testing.T, m map[string]any)
	is   error
	text string
}

func randomOdd(t *testing.T, bits int) string {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, bits-1, 1)
	n.SetBit(n, 0, 1)
	return b64u(n.Bytes())
}

func hostileCases() []hostileCase {
	set := func(k string, v any) func(*testing.T, map[string]any) {
		return func(_ *testing.T, m map[string]any) { m[k] = v }
	}
	del := func(keys ...string) func(*testing.T, map[string]any) {
		return func(_ *testing.T, m map[string]any) {
			for _, k := range keys {
				delete(m, k)
			}
		}
	}
	return []hostileCase{
		{"RSA 1024 bits", engine.RS256, func(t *testing.T, m map[string]any) { m["n"] = randomOdd(t, 1024) },
			engine.ErrInvalidKey, "RSA modulus is 1024 bits; must be 2048 to 8192"},
		{"RSA e=1", engine.RS256, set("e", "AQ"), engine.ErrInvalidKey, "RSA public exponent 1 must be odd and greater than 1"},
		{"RSA even e", engine.RS256, set("e", "AQAA"), engine.ErrInvalidKey, "RSA public exponent 65536 must be odd"},
		{"RSA huge e", engine.RS256, set("e", "AQAAAAE"), engine.ErrInvalidKey, "RSA public exponent is 33 bits"},
		{"RSA ROCA", engine.RS256, func(t *testing.T, m map[string]any) { m["n"] = b64u(rocaModulus(t).Bytes()) },
			engine.ErrInvalidKey, "ROCA fingerprint"},
		{"Ed25519 small order", engine.EdDSA, set("x", "JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_AU"),
			engine.ErrInvalidKey, "small order"},
		{"RSA without e", engine.RS256, del("e"), ErrMalformedJWK, `an RSA JWK needs both "n" and "e"`},
		{"RSA private d", engine.RS256, set("d", "AQAB"), ErrPrivateKeyMaterial, `the RSA JWK has the private member "d"`},
		{"RSA padded n", engine.RS256, func(_ *testing.T, m map[string]any) { m["n"] = m["n"].(string) + "==" },
			ErrMalformedJWK, `member "n" is not unpadded base64url`},
		{"RSA n number", engine.RS256, set("n", 12345), ErrMalformedJWK, `member "n" must be a string, got a number`},
		{"EC off curve", engine.ES256, func(_ *testing.T, m map[string]any) {
			y, _ := base64.RawURLEncoding.DecodeString(m["y"].(string))
			y[len(y)-1] ^= 1
			m["y"] = b64u(y)
		}, engine.ErrInvalidKey, "ECDSA public point is not on P-256"},
		{"EC x >= p", engine.ES256, set("x", b64u(bytesOf(0xff, 32))), engine.ErrInvalidKey, "not on P-256"},
		{"ES256 on P-384", engine.ES384, set("alg", "ES256"), engine.ErrInvalidKey, "ES256 needs curve P-256, got P-384"},
		{"ES512 on P-256", engine.ES256, set("alg", "ES512"), engine.ErrInvalidKey, "ES512 needs curve P-521, got P-256"},
		{"RS256 on EC", engine.ES256, set("alg", "RS256"), engine.ErrInvalidKey, "alg RS256 needs kty RSA, the JWK has kty EC"},
		{"EdDSA on RSA", engine.RS256, set("alg", "EdDSA"), engine.ErrInvalidKey, "alg EdDSA needs kty OKP, the JWK has kty RSA"},
		{"HS256 on RSA", engine.RS256, set("alg", "HS256"), engine.ErrInvalidKey, "alg HS256 needs kty oct"},
		{"EC short x", engine.ES256, set("x", b64u(bytesOf(1, 31))), ErrMalformedJWK, "P-256 coordinates must be 32 bytes each, got x 31"},
		{"EC secp256k1", engine.ES256, set("crv", "secp256k1"), ErrUnsupportedKey, `EC curve "secp256k1"`},
		{"EC no crv", engine.ES256, del("crv"), ErrMalformedJWK, `an EC JWK needs "crv"`},
		{"EC private d", engine.ES256, set("d", "AQAB"), ErrPrivateKeyMaterial, `the EC JWK has the private member "d"`},
		{"OKP Ed448", engine.EdDSA, set("crv", "Ed448"), ErrUnsupportedKey, `OKP curve "Ed448"`},
		{"OKP short x", engine.EdDSA, set("x", b64u(bytesOf(1, 31))), ErrMalformedJWK, `an Ed25519 "x" must be 32 bytes, got 31`},
		{"HS256 short secret", engine.HS256, set("k", b64u(bytesOf(7, 16))), engine.ErrInvalidKey, "HS256 secret must be at least 32 bytes (the hash size), got 16"},
		{"HS512 short secret", engine.HS512, set("k", b64u(bytesOf(7, 32))), engine.ErrInvalidKey, "HS512 secret must be at least 64 bytes"},
		{"oct without k", engine.HS256, del("k"), ErrMalformedJWK, `an oct JWK needs "k"`},
		{"use enc", engine.RS256, set("use", "enc"), ErrNotForVerification, `use is "enc", not "sig"`},
		{"key_ops without verify", engine.RS256, func(_ *testing.T, m map[string]any) {
			delete(m, "use")
			m["key_ops"] = []string{"encrypt", "wrapKey"}
		}, ErrNotForVerification, `does not include "verify"`},
		{"key_ops sign only", engine.ES256, func(_ *testing.T, m map[string]any) {
			delete(m, "use")
			m["key_ops"] = []string{"sign"}
		}, ErrNotForVerification, `key_ops ["sign"] does not include "verify"`},
		{"use sig with key_ops encrypt", engine.RS256, set("key_ops", []string{"verify", "encrypt"}),
			ErrKeyUseConflict, `use is "sig" but key_ops has "encrypt"`},
		{"use enc with key_ops verify", engine.RS256, func(_ *testing.T, m map[string]any) {
			m["use"] = "enc"
			m["key_ops"] = []string{"verify"}
		}, ErrKeyUseConflict, `use is "enc" but key_ops has "verify"`},
		{"key_ops twice", engine.RS256, set("key_ops", []string{"verify", "verify"}), ErrMalformedJWK, `key_ops lists "verify" twice`},
		{"key_ops string", engine.RS256, set("key_ops", "verify"), ErrMalformedJWK, `member "key_ops" must be an array of strings, got a string`},
		{"key_ops numbers", engine.RS256, set("key_ops", []any{"verify", 7}), ErrMalformedJWK, `element 1 is a number`},
		{"use number", engine.RS256, set("use", 1), ErrMalformedJWK, `member "use" must be a string, got a number`},
		{"kid number", engine.RS256, set("kid", 42), ErrMalformedJWK, `member "kid" must be a string, got a number`},
		{"kid null", engine.RS256, set("kid", nil), ErrMalformedJWK, `member "kid" must be a string, got null`},
		{"kty missing", engine.RS256, del("kty"), ErrMalformedJWK, `member "kty" is required`},
		{"kty object", engine.RS256, set("kty", map[string]any{}), ErrMalformedJWK, `member "kty" must be a string, got an object`},
		{"kty unknown", engine.RS256, set("kty", "DSA"), ErrUnsupportedKey, `kty "DSA"`},
		{"alg none", engine.RS256, set("alg", "none"), ErrUnsupportedKey, `alg "none" is not a supported signature algorithm`},
		{"alg lower case", engine.RS256, set("alg", "rs256"), ErrUnsupportedKey, `alg "rs256"`},
		{"alg encryption", engine.RS256, func(_ *testing.T, m map[string]any) {
			delete(m, "use")
			m["alg"] = "RSA-OAEP"
		}, ErrUnsupportedKey, `alg "RSA-OAEP"`},
		{"alg array", engine.RS256, set("alg", []string{"RS256"}), ErrMalformedJWK, `member "alg" must be a string, got an array`},
		{"x5c string", engine.RS256, set("x5c", "MIIB"), ErrMalformedJWK, `member "x5c" must be an array of strings`},
		{"x5c empty", engine.RS256, set("x5c", []string{}), ErrMalformedJWK, "x5c is an empty array"},
		{"x5c not base64", engine.RS256, set("x5c", []string{"!!!"}), ErrMalformedJWK, "x5c[0] is not padded standard base64"},
		{"x5c not a certificate", engine.RS256, set("x5c", []string{base64.StdEncoding.EncodeToString([]byte("not DER"))}),
			ErrMalformedJWK, "x5c[0] is not a DER X.509 certificate"},
		{"x5c of another RSA key", engine.RS256, func(t *testing.T, m map[string]any) {
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, signer(t, engine.RS256, "other")))}
		}, ErrCertificateMismatch, `"n"/"e" differ from the certificate's RSA key`},
		{"x5c of another EC key", engine.ES256, func(t *testing.T, m map[string]any) {
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, signer(t, engine.ES256, "other")))}
		}, ErrCertificateMismatch, `"x"/"y" differ from the certificate's EC key`},
		{"x5c of another Ed25519 key", engine.EdDSA, func(t *testing.T, m map[string]any) {
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, signer(t, engine.EdDSA, "other")))}
		}, ErrCertificateMismatch, `"x" differs from the certificate's Ed25519 key`},
		{"x5c EC cert on RSA JWK", engine.RS256, func(t *testing.T, m map[string]any) {
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, signer(t, engine.ES256, "other")))}
		}, ErrCertificateMismatch, "kty is RSA but the x5c certificate holds a ECDSA key"},
		{"x5c P-384 cert on P-256 JWK", engine.ES256, func(t *testing.T, m map[string]any) {
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, signer(t, engine.ES384, "other")))}
		}, ErrCertificateMismatch, "crv is P-256 but the certificate's key is on P-384"},
		{"x5t mismatch", engine.RS256, func(t *testing.T, m map[string]any) {
			s := signer(t, engine.RS256, m["kid"].(string))
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, s))}
			m["x5t"] = b64u(bytesOf(1, sha1.Size))
		}, ErrCertificateMismatch, "x5t is not the thumbprint of x5c[0]"},
		{"x5t#S256 mismatch", engine.RS256, func(t *testing.T, m map[string]any) {
			s := signer(t, engine.RS256, m["kid"].(string))
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, s))}
			m["x5t#S256"] = b64u(bytesOf(1, sha256.Size))
		}, ErrCertificateMismatch, "x5t#S256 is not the thumbprint of x5c[0]"},
		{"oct with x5c", engine.HS256, func(t *testing.T, m map[string]any) {
			m["x5c"] = []string{base64.StdEncoding.EncodeToString(selfSigned(t, signer(t, engine.ES256, "other")))}
		}, ErrMalformedJWK, "an oct key cannot have an x5c certificate"},
	}
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestParseJWKSRejectsHostileKeys(t *testing.T) {
	goodPublic := jwk(t, signer(t, engine.ES256, "good"))
	goodSecret := jwk(t, signer(t, engine.HS256, "good"))
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			good := goodPublic
			if c.alg.Family() == engine.FamilyHMAC {
				good = goodSecret // a set holds secrets or public keys, not both
			}
			bad := jwk(t, signer(t, c.alg, "bad"))
			c.edit(t, bad)
			keys, skipped, err := ParseJWKS(jwks(t, bad, good), ParseOptions{})
			if err != nil {
				t.Fatalf("the set failed: %v", err)
			}
			if len(keys) != 1 || keys[0].Kid() != "good" {
				t.Fatalf("keys: %v", keys)
			}
			if len(skipped) != 1 {
				t.Fatalf("skipped: %v", skipped)
			}
			var ke *KeyError
			if !errors.As(skipped[0], &ke) || ke.Index != 0 {
				t.Fatalf("skipped[0] is %T %v, want a *KeyError for key #0", skipped[0], skipped[0])
			}
			if !errors.Is(skipped[0], c.is) {
				t.Fatalf("reason %q does not wrap %q", skipped[0], c.is)
			}
			mustContain(t, skipped[0].Error(), c.text)
			if kid, ok := bad["kid"].(string); ok && ke.Kid != kid {
				t.Fatalf("KeyError.Kid %q, want %q", ke.Kid, kid)
			}
		})
	}
}

func TestParseJWKSDuplicateMemberInKey(t *testing.T) {
	s := signer(t, engine.ES256, "dup")
	good := string(jwks(t, jwk(t, signer(t, engine.ES256, "good"))))
	raw := strings.Replace(good, `{"keys":[`, `{"keys":[{"kty":"EC","kid":"dup","kid":"other","crv":"P-256","x":"`+
		jwk(t, s)["x"].(string)+`","y":"`+jwk(t, s)["y"].(string)+`"},`, 1)
	keys, skipped, err := ParseJWKS([]byte(raw), ParseOptions{})
	if err != nil || len(keys) != 1 || len(skipped) != 1 {
		t.Fatalf("keys %d skipped %v err %v", len(keys), skipped, err)
	}
	if !errors.Is(skipped[0], ErrMalformedJWK) {
		t.Fatal(skipped[0])
	}
	mustContain(t, skipped[0].Error(), `duplicate member "kid"`)
}

func TestParseJWKSKeyNotAnObject(t *testing.T) {
	good := jwk(t, signer(t, engine.ES256, "good"))
	_, skipped, err := ParseJWKS(jwks(t, "a string", 12, good), ParseOptions{})
	if err != nil || len(skipped) != 2 {
		t.Fatalf("skipped %v err %v", skipped, err)
	}
	mustContain(t, skipped[0].Error(), "key #0: malformed JWK: a JWK must be a JSON object, got a string")
	mustContain(t, skipped[1].Error(), "key #1: malformed JWK: a JWK must be a JSON object, got a number")
}

func TestParseJWKSCertificates(t *testing.T) {
	for _, alg := range []engine.Alg{engine.RS256, engine.ES384, engine.EdDSA} {
		s := signer(t, alg, "cert-"+alg.String())
		der := selfSigned(t, s)
		x5c := []string{base64.StdEncoding.EncodeToString(der), base64.StdEncoding.EncodeToString([]byte("intermediate"))}
		// x5c alone: the key comes from the certificate.
		only := map[string]any{"kty": jwk(t, s)["kty"], "kid": s.Kid, "x5c": x5c, "x5t#S256": b64u(sha256Sum(der)), "x5t": b64u(sha1Sum(der))}
		if crv, ok := jwk(t, s)["crv"]; ok {
			only["crv"] = crv
		}
		// x5c next to matching key members.
		both := jwk(t, s)
		both["x5c"] = x5c
		for name, m := range map[string]map[string]any{"x5c only": only, "x5c and members": both} {
			k, err := keyOf(t, m)
			if err != nil {
				t.Fatalf("%s %s: %v", alg, name, err)
			}
			if k.Alg() != alg {
				t.Fatalf("%s %s: alg %s", alg, name, k.Alg())
			}
			verifies(t, k, s)
		}
	}
}

func TestParseJWKSDocument(t *testing.T) {
	good := string(jwks(t, jwk(t, signer(t, engine.ES256, "good"))))
	many := make([]any, MaxKeys+1)
	for i := range many {
		many[i] = map[string]any{"kty": "oct"}
	}
	cases := []struct {
		name string
		doc  string
		is   error
		text string
	}{
		{"empty", "", ErrNotJWKS, "not valid JSON"},
		{"not JSON", "keys", ErrNotJWKS, "not valid JSON"},
		{"array", `[` + good + `]`, ErrNotJWKS, "not a JSON object"},
		{"no keys", `{"kids":[]}`, ErrNotJWKS, `the object has no "keys" member`},
		{"keys object", `{"keys":{}}`, ErrNotJWKS, `"keys" must be an array, got an object`},
		{"keys null", `{"keys":null}`, ErrNotJWKS, `"keys" must be an array, got null`},
		{"duplicate keys", `{"keys":[],"keys":[]}`, ErrNotJWKS, `duplicate member "keys"`},
		{"trailing data", good + `{}`, ErrNotJWKS, "data after the JSON object"},
		{"trailing garbage", good + `x`, ErrNotJWKS, "data after the JSON object"},
		{"truncated", good[:len(good)-3], ErrNotJWKS, "not valid JSON"},
		{"invalid UTF-8", "{\"keys\":[],\"x\":\"\xff\"}", ErrNotJWKS, "not valid JSON: invalid UTF-8"},
		{"empty keys", `{"keys":[]}`, ErrNoUsableKeys, "the set has no keys"},
		{"only enc keys", string(jwks(t, func() map[string]any {
			m := jwk(t, signer(t, engine.RS256, "enc"))
			m["use"] = "enc"
			return m
		}())), ErrNoUsableKeys, `all 1 keys were skipped; first: key #0 (kid "enc"): key is not for signature verification: use is "enc"`},
		{"too many keys", string(jwks(t, many...)), ErrTooManyKeys, "1025 keys, at most 1024"},
		{"too large", `{"keys":[` + strings.Repeat(" ", DefaultMaxBody) + `]}`, ErrDocumentTooLarge, "the limit is 1048576"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys, _, err := ParseJWKS([]byte(c.doc), ParseOptions{})
			if !errors.Is(err, c.is) || keys != nil {
				t.Fatalf("err %v (keys %v), want %v", err, keys, c.is)
			}
			mustContain(t, err.Error(), c.text)
		})
	}
	if _, _, err := ParseJWKS([]byte(good), ParseOptions{MaxSize: 10}); !errors.Is(err, ErrDocumentTooLarge) {
		t.Fatalf("MaxSize ignored: %v", err)
	}
	// Unknown members are ignored, at the top and in keys.
	if keys, _, err := ParseJWKS([]byte(`{"other":1,"keys":`+good[len(`{"keys":`):]), ParseOptions{}); err != nil || len(keys) != 1 {
		t.Fatalf("unknown top-level member: %v", err)
	}
}

func TestParseJWKSAmbiguousKid(t *testing.T) {
	a := jwk(t, signer(t, engine.RS256, "same"))
	b := jwk(t, signer(t, engine.ES256, "other"))
	b["kid"] = "same"
	b["alg"] = "ES256"
	// Same kid, different algorithms: fine, the token's alg chooses.
	if keys, _, err := ParseJWKS(jwks(t, a, b), ParseOptions{}); err != nil || len(keys) != 2 {
		t.Fatalf("same kid, two algs: %v", err)
	}
	// Same kid and alg twice: the set is rejected, even for equal keys.
	c := jwk(t, signer(t, engine.RS256, "same2"))
	c["kid"] = "same"
	for _, set := range [][]byte{jwks(t, a, b, c), jwks(t, a, a)} {
		keys, _, err := ParseJWKS(set, ParseOptions{})
		if !errors.Is(err, ErrAmbiguousKid) || keys != nil {
			t.Fatalf("err %v", err)
		}
		mustContain(t, err.Error(), `kid "same" with alg RS256 is both key #0 and key #`)
	}
	// A skipped key does not count.
	bad := jwk(t, signer(t, engine.RS256, "same3"))
	bad["kid"], bad["use"] = "same", "enc"
	if keys, skipped, err := ParseJWKS(jwks(t, a, bad), ParseOptions{}); err != nil || len(keys) != 1 || len(skipped) != 1 {
		t.Fatalf("skipped duplicate: %v", err)
	}
	// Keys without kid never collide (tokens without kid then need one).
	n1, n2 := jwk(t, signer(t, engine.RS256, "n1")), jwk(t, signer(t, engine.RS256, "n2"))
	delete(n1, "kid")
	delete(n2, "kid")
	if keys, _, err := ParseJWKS(jwks(t, n1, n2), ParseOptions{}); err != nil || len(keys) != 2 {
		t.Fatalf("kid-less keys: %v", err)
	}
}
