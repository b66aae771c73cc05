package engine_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// exampleJWKS trusts one HS256 key; exampleToken was signed with it for
// alice, audience api://orders, valid until 2100.
const (
	exampleJWKS  = `{"keys":[{"kty":"oct","kid":"2026-11","alg":"HS256","k":"ZXhhbXBsZS1zZWNyZXQtb2YtYXQtbGVhc3QtMzItYnl0ZXMhIQ"}]}`
	exampleToken = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjIwMjYtMTEiLCJ0eXAiOiJKV1QifQ." +
		"eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJhcGk6Ly9vcmRlcnMiLCJpYXQiOjE3NjQwNzIwMDAsImV4cCI6NDEwMjQ0NDgwMCwic2NvcGUiOiJvcmRlcnM6cmVhZCBvcmRlcnM6d3JpdGUifQ." +
		"BwPXZ5JX8uNPKcjxJLkG1Fpj-eWmhNdBkgXNEAORlXo"
)

// A verifier for one issuer whose keys come from a JWKS, checking a token's
// signature, issuer, audience and expiry, and reading its claims.
func ExampleVerifier_Verify() {
	store, err := keystore.New(keystore.Options{},
		keystore.Issuer{Issuer: "https://issuer.example", JWKS: []byte(exampleJWKS)})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	v, err := engine.New(engine.Config{
		Keys:      store,
		Issuers:   []string{"https://issuer.example"},
		Audiences: []string{"api://orders"},
	})
	if err != nil {
		panic(err)
	}

	var t engine.Token // reuse one per goroutine: verifying then allocates nothing
	if err := v.VerifyString(exampleToken, &t); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Printf("sub=%s scope %q: %v\n", t.Claims.Subject, "orders:write", t.Claims.HasScope("orders:write"))

	tampered := []byte(exampleToken)
	tampered[len(tampered)-5] ^= 'A' ^ 'B' // one letter of the signature changed
	err = v.Verify(tampered, &t)
	var e *engine.Error
	if errors.As(err, &e) {
		fmt.Printf("tampered: %s (%s, %s)\n", e, e.Reason(), e.OAuthCode())
	}
	fmt.Printf("sub after the rejection: %q\n", t.Claims.Subject) // nothing of a rejected token stays readable
	// Output:
	// sub=alice scope "orders:write": true
	// tampered: token signature is invalid (bad_signature, invalid_token)
	// sub after the rejection: ""
}

// A server that has read the clock when the request arrived verifies at
// that time, without reading it again; a token is judged at the time given,
// cached or not.
func ExampleVerifier_VerifyAt() {
	store, err := keystore.New(keystore.Options{},
		keystore.Issuer{Issuer: "https://issuer.example", JWKS: []byte(exampleJWKS)})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	v, err := engine.New(engine.Config{
		Keys:      store,
		Issuers:   []string{"https://issuer.example"},
		Audiences: []string{"api://orders"},
	})
	if err != nil {
		panic(err)
	}

	var t engine.Token
	arrived := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) // say, fasthttp's ctx.Time()
	fmt.Println("2030:", v.VerifyAt([]byte(exampleToken), arrived, &t) == nil)
	fmt.Println("2101:", v.VerifyAt([]byte(exampleToken), arrived.AddDate(71, 0, 0), &t))
	// Output:
	// 2030: true
	// 2101: token has expired
}

// Errors compare with errors.Is against the exported reasons.
func ExampleError() {
	err := engine.ErrExpired.Refine("token expired 5 minutes ago")
	fmt.Println(errors.Is(err, engine.ErrExpired), err.Reason(), err.OAuthCode())
	// Output: true expired invalid_token
}
