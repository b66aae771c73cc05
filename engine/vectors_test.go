package engine_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// The vectors in testdata/vectors/jose.json come from implementations that
// share no code with jwtgate: tokens signed by panva/jose (Node.js WebCrypto)
// and the worked examples of RFC 7515, RFC 7520 and RFC 8037. See
// testdata/vectors/gen/README.md for how they are made.

type vectorFile struct {
	Sets []vectorSet `json:"sets"`
}

type vectorSet struct {
	Name     string        `json:"name"`
	Source   string        `json:"source"`
	Clock    int64         `json:"clock"`
	Issuer   string        `json:"issuer"`
	Audience string        `json:"audience"`
	Keys     []vectorKey   `json:"keys"`
	Tokens   []vectorToken `json:"tokens"`
}

type vectorKey struct {
	Alg string  `json:"alg"`
	JWK testJWK `json:"jwk"`
}

// testJWK is the subset of RFC 7517 the vectors use.
type testJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
	K   string `json:"k"`
}

type vectorToken struct {
	Name   string        `json:"name"`
	Alg    string        `json:"alg"`
	Token  string        `json:"token"`
	Valid  bool          `json:"valid"`
	Check  string        `json:"check"` // "claims": Verify; "signature": VerifySignature only
	Expect *vectorClaims `json:"expect"`
}

type vectorClaims struct {
	Iss   string   `json:"iss"`
	Sub   string   `json:"sub"`
	Aud   []string `json:"aud"`
	Jti   string   `json:"jti"`
	Scope string   `json:"scope"`
	Exp   int64    `json:"exp"`
	Iat   int64    `json:"iat"`
	Nbf   int64    `json:"nbf"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vectors", "jose.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Sets) == 0 {
		t.Fatal("no vector sets")
	}
	return f
}

// engineKeyFromJWK builds the engine key for a public JWK bound to alg,
// parsing the JWK with the standard library only.
func engineKeyFromJWK(alg engine.Alg, j testJWK) (*engine.Key, error) {
	b64 := base64.RawURLEncoding.Strict()
	field := func(name, v string) ([]byte, error) {
		b, err := b64.DecodeString(v)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("jwk %s: bad %q", name, v)
		}
		return b, nil
	}
	var pub any
	switch j.Kty {
	case "RSA":
		n, err := field("n", j.N)
		if err != nil {
			return nil, err
		}
		e, err := field("e", j.E)
		if err != nil {
			return nil, err
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		curve, ok := curves[j.Crv]
		if !ok {
			return nil, fmt.Errorf("jwk: unknown curve %q", j.Crv)
		}
		x, err := field("x", j.X)
		if err != nil {
			return nil, err
		}
		y, err := field("y", j.Y)
		if err != nil {
			return nil, err
		}
		point := append(append([]byte{4}, x...), y...)
		if pub, err = ecdsa.ParseUncompressedPublicKey(curve, point); err != nil {
			return nil, fmt.Errorf("jwk: %w", err)
		}
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("jwk: unknown OKP curve %q", j.Crv)
		}
		x, err := field("x", j.X)
		if err != nil {
			return nil, err
		}
		pub = ed25519.PublicKey(x)
	case "oct":
		k, err := field("k", j.K)
		if err != nil {
			return nil, err
		}
		pub = k
	default:
		return nil, fmt.Errorf("jwk: unknown kty %q", j.Kty)
	}
	return engine.NewKey(alg, j.Kid, pub)
}

// verifierFor builds a verifier trusting exactly the set's keys, at the set's
// clock, with the cache on or off.
func verifierFor(t *testing.T, set vectorSet, cache bool) *engine.Verifier {
	t.Helper()
	keys := &testKeys{}
	for _, vk := range set.Keys {
		alg, ok := engine.ParseAlg(vk.Alg)
		if !ok {
			t.Fatalf("%s: unknown alg %q", set.Name, vk.Alg)
		}
		k, err := engineKeyFromJWK(alg, vk.JWK)
		if err != nil {
			t.Fatalf("%s: key %s: %v", set.Name, vk.Alg, err)
		}
		keys.keys = append(keys.keys, k)
	}
	cfg := engine.Config{
		Keys:         keys,
		Clock:        newFakeClock(time.Unix(set.Clock, 0)),
		CacheEntries: -1,
	}
	if cache {
		cfg.CacheEntries = 0
	}
	if set.Issuer != "" {
		cfg.Issuers = []string{set.Issuer}
	} else {
		cfg.AnyIssuer = true
	}
	if set.Audience != "" {
		cfg.Audiences = []string{set.Audience}
	} else {
		cfg.AnyAudience = true
	}
	v, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIndependentVectors(t *testing.T) {
	f := loadVectors(t)
	validByAlg := map[string]int{}   // claims-checked valid tokens made by jose
	invalidByAlg := map[string]int{} // rejected tokens made by jose
	rfcByAlg := map[string]int{}     // valid RFC examples
	for _, set := range f.Sets {
		for _, cache := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/cache=%v", set.Name, cache), func(t *testing.T) {
				v := verifierFor(t, set, cache)
				for _, vt := range set.Tokens {
					t.Run(vt.Name, func(t *testing.T) {
						checkVector(t, v, vt, cache)
					})
					if cache {
						continue
					}
					switch {
					case set.Name == "jose" && vt.Valid:
						validByAlg[vt.Alg]++
					case set.Name == "jose":
						invalidByAlg[vt.Alg]++
					case vt.Valid:
						rfcByAlg[vt.Alg]++
					}
				}
			})
		}
	}
	for _, alg := range engine.Algorithms() {
		if validByAlg[alg.String()] < 3 || invalidByAlg[alg.String()] < 3 {
			t.Errorf("%v: %d valid and %d invalid jose vectors, want at least 3 of each", alg, validByAlg[alg.String()], invalidByAlg[alg.String()])
		}
	}
	for _, alg := range []string{"HS256", "RS256", "PS384", "ES256", "ES512", "EdDSA"} {
		if rfcByAlg[alg] == 0 {
			t.Errorf("no RFC example for %s", alg)
		}
	}
}

func checkVector(t *testing.T, v *engine.Verifier, vt vectorToken, cache bool) {
	var res engine.Token
	tok := []byte(vt.Token)
	if !vt.Valid {
		// Whatever the payload holds, a bad signature is reported as such,
		// by both entry points, every time (never cached).
		for range 2 {
			if err := v.Verify(tok, &res); !errors.Is(err, engine.ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
			if err := v.VerifySignature(tok, &res); !errors.Is(err, engine.ErrBadSignature) {
				t.Fatalf("VerifySignature = %v, want ErrBadSignature", err)
			}
		}
		return
	}
	if err := v.VerifySignature(tok, &res); err != nil {
		t.Fatalf("VerifySignature: %v", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(vt.Token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Payload()) != string(payload) {
		t.Errorf("Payload() = %q, want %q", res.Payload(), payload)
	}
	if got := res.Header.Alg.String(); got != vt.Alg {
		t.Errorf("header alg %s, want %s", got, vt.Alg)
	}
	if vt.Check == "signature" {
		if json.Valid(payload) {
			t.Fatalf("signature-only vector has a JSON payload; check it with claims")
		}
		// Verify needs a JSON claims set: the signature verifies, then the
		// payload is reported as malformed.
		if err := v.Verify(tok, &res); !errors.Is(err, engine.ErrMalformed) {
			t.Errorf("Verify of a non-JSON payload = %v, want ErrMalformed", err)
		}
		return
	}
	for i := range 2 {
		if err := v.Verify(tok, &res); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if cache && i == 1 && !res.FromCache() {
			t.Errorf("second Verify was not answered from the cache")
		}
		if res.Key() == nil || res.Key().Alg().String() != vt.Alg {
			t.Errorf("verified by key %v, want one bound to %s", res.Key(), vt.Alg)
		}
		checkClaims(t, &res.Claims, vt.Expect)
	}
}

func checkClaims(t *testing.T, c *engine.Claims, want *vectorClaims) {
	t.Helper()
	if want == nil {
		t.Fatal("claims vector without expected claims")
	}
	var auds []string
	for _, a := range c.Audience {
		auds = append(auds, string(a))
	}
	got := vectorClaims{
		Iss: string(c.Issuer), Sub: string(c.Subject), Aud: auds, Jti: string(c.ID),
		Scope: string(c.Scope), Exp: c.ExpiresAt, Iat: c.IssuedAt, Nbf: c.NotBefore,
	}
	if got.Iss != want.Iss || got.Sub != want.Sub || got.Jti != want.Jti || got.Scope != want.Scope ||
		got.Exp != want.Exp || got.Iat != want.Iat || got.Nbf != want.Nbf || !slices.Equal(got.Aud, want.Aud) {
		t.Errorf("claims\n got %+v\nwant %+v", got, *want)
	}
	if !c.HasExpiresAt() {
		t.Error("HasExpiresAt() = false")
	}
	if want.Iat != 0 && (!c.HasIssuedAt() || !c.HasNotBefore()) {
		t.Error("iat or nbf not reported present")
	}
}
