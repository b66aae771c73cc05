package keystore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/keystore"
)

// A store with one issuer whose keys are an inline JWKS, used by a Verifier.
func ExampleNew() {
	signer := sign.MustGenerate(engine.ES256, "2026-11")
	store, err := keystore.New(keystore.Options{},
		keystore.Issuer{Issuer: "https://issuer.example", JWKS: sign.JWKS(signer)})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	v, err := engine.New(engine.Config{Keys: store, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"}})
	if err != nil {
		panic(err)
	}
	token, _ := signer.Sign(map[string]any{"iss": "https://issuer.example", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
	var t engine.Token
	fmt.Println("valid:", v.VerifyString(token, &t) == nil)
	// Output: valid: true
}

// A store fed by a remote JWKS: Start fetches it, then refreshes it in the
// background until Close.
func ExampleStore_Start() {
	signer := sign.MustGenerate(engine.EdDSA, "ed-1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(sign.JWKS(signer))
	}))
	defer srv.Close()
	store, err := keystore.New(keystore.Options{Logger: slog.New(slog.DiscardHandler)},
		keystore.Issuer{Issuer: "https://issuer.example", JWKSURL: srv.URL})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	if err := store.Start(context.Background()); err != nil {
		fmt.Println("not ready yet:", err)
	}
	for _, st := range store.Issuers() {
		fmt.Printf("%s: %d key(s), ready %v\n", st.Issuer, st.Keys, st.Ready)
	}
	// Output: https://issuer.example: 1 key(s), ready true
}

// LookupKey routes by issuer, then chooses by kid and algorithm.
func ExampleStore_LookupKey() {
	a := sign.MustGenerate(engine.ES256, "k1")
	b := sign.MustGenerate(engine.ES256, "k1") // the same kid at another issuer
	store, _ := keystore.New(keystore.Options{},
		keystore.Issuer{Issuer: "https://a.example", JWKS: sign.JWKS(a)},
		keystore.Issuer{Issuer: "https://b.example", JWKS: sign.JWKS(b)})
	key, _ := store.LookupKey([]byte("https://b.example"), []byte("k1"), engine.ES256)
	fmt.Println(key.Alg(), key.Kid(), key.Equal(must(b.EngineKey())))
	_, err := store.LookupKey([]byte("https://b.example"), []byte("k2"), engine.ES256)
	fmt.Println(errors.Is(err, engine.ErrUnknownKid))
	_, err = store.LookupKey([]byte("https://c.example"), []byte("k1"), engine.ES256)
	fmt.Println(errors.Is(err, engine.ErrUnknownIssuer))
	// Output:
	// ES256 k1 true
	// true
	// true
}

// ParseJWKS keeps the usable keys and says why it skipped the others.
func ExampleParseJWKS() {
	sig := sign.MustGenerate(engine.ES256, "sig-1").PublicJWK()
	enc := sign.MustGenerate(engine.ES256, "enc-1").PublicJWK()
	enc.Use, enc.Alg = "enc", ""
	noAlg := sign.MustGenerate(engine.ES384, "ec-1").PublicJWK()
	noAlg.Alg = ""
	doc := fmt.Appendf(nil, `{"keys":[%s,%s,%s]}`, mustJSON(sig), mustJSON(enc), mustJSON(noAlg))
	keys, skipped, err := keystore.ParseJWKS(doc, keystore.ParseOptions{})
	if err != nil {
		panic(err)
	}
	for _, k := range keys {
		fmt.Println("key", k.Kid(), k.Alg())
	}
	for _, s := range skipped {
		fmt.Println("skipped", s, errors.Is(s, keystore.ErrNotForVerification))
	}
	// Output:
	// key sig-1 ES256
	// key ec-1 ES384
	// skipped key #1 (kid "enc-1"): key is not for signature verification: use is "enc", not "sig" true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func mustJSON(j sign.JWK) []byte { return must(json.Marshal(j)) }

// Two issuers in one Verifier, each policy holding its issuer's own key
// set: a token's "iss" picks the policy and the keys, so a key of one issuer
// never verifies a token that claims the other.
func ExampleStore_KeySet() {
	a := sign.MustGenerate(engine.ES256, "a-1")
	b := sign.MustGenerate(engine.ES256, "b-1")
	store, err := keystore.New(keystore.Options{},
		keystore.Issuer{Issuer: "https://a.example", JWKS: sign.JWKS(a)},
		keystore.Issuer{Issuer: "https://b.example", JWKS: sign.JWKS(b)})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	keysA, _ := store.KeySet("https://a.example")
	keysB, _ := store.KeySet("https://b.example")
	v, err := engine.New(engine.Config{Policies: []engine.IssuerPolicy{
		{Issuer: "https://a.example", Keys: keysA, Audiences: []string{"api"}},
		{Issuer: "https://b.example", Keys: keysB, Audiences: []string{"api"}, RequiredScopes: []string{"read"}},
	}})
	if err != nil {
		panic(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	var t engine.Token
	tokA, _ := a.Sign(map[string]any{"iss": "https://a.example", "aud": "api", "exp": exp})
	fmt.Println("a:", v.VerifyString(tokA, &t), t.PolicyIndex())
	tokB, _ := b.Sign(map[string]any{"iss": "https://b.example", "aud": "api", "exp": exp, "scope": "read"})
	fmt.Println("b:", v.VerifyString(tokB, &t), t.PolicyIndex())
	forged, _ := b.Sign(map[string]any{"iss": "https://a.example", "aud": "api", "exp": exp})
	fmt.Println("b's key, a's iss:", engine.ErrUnknownKid == errors.Unwrap(v.VerifyString(forged, &t)))
	// Output:
	// a: <nil> 0
	// b: <nil> 1
	// b's key, a's iss: true
}
