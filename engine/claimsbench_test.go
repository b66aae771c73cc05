package engine

import (
	"encoding/base64"
	"testing"
)

// benchPayload is the payload of BenchmarkVerify's access token (the keys in
// encoding/json's order).
const benchPayload = `{"aud":"api://gateway","exp":1764075600,"iat":1764071940,"iss":"https://issuer.example",` +
	`"jti":"3f1c9b0e-7a2d-4c5e-9f8a-1b2c3d4e5f60","nbf":1764071940,"scope":"openid profile read:orders write:orders",` +
	`"sub":"user-1234567890"}`

// keycloakPayload is the payload of a Keycloak access token: registered
// claims among many others, some nested.
const keycloakPayload = `{"exp":1764075600,"iat":1764071940,"auth_time":1764071900,"jti":"onrtac:6b3e2f0a-9c1d-4e5f-8a7b-2c3d4e5f6a7b",` +
	`"iss":"https://sso.example.com/realms/acme","aud":["orders-api","account"],"sub":"f3c1b2a4-5d6e-4f70-8a9b-0c1d2e3f4a5b",` +
	`"typ":"Bearer","azp":"web-frontend","sid":"9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4","acr":"1",` +
	`"allowed-origins":["https://app.example.com"],"realm_access":{"roles":["offline_access","uma_authorization","default-roles-acme"]},` +
	`"resource_access":{"account":{"roles":["manage-account","view-profile"]}},"scope":"openid email profile",` +
	`"email_verified":true,"name":"Zoe Example","preferred_username":"zoe","given_name":"Zoe","family_name":"Example",` +
	`"email":"zoe@example.com"}`

// BenchmarkParseClaims measures the claims scan alone, of a plain access
// token and of a Keycloak one, on the general path and (mode=plain) on the
// printable-ASCII one.
func BenchmarkParseClaims(b *testing.B) {
	for _, payload := range []struct{ name, json string }{{"access", benchPayload}, {"keycloak", keycloakPayload}} {
		data := []byte(payload.json)
		var tok Token
		tok.grow(2 * len(data))
		for _, mode := range []struct {
			name  string
			plain bool
		}{{"general", false}, {"plain", true}} {
			b.Run("payload="+payload.name+"/mode="+mode.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					tok.reset(nil)
					if err := parseClaims(&tok, data, mode.plain); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPlainASCII measures the printable-ASCII check of the same payload.
func BenchmarkPlainASCII(b *testing.B) {
	data := []byte(benchPayload)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if !plainASCII(data) {
			b.Fatal("not plain")
		}
	}
}

// BenchmarkHeaderCacheGet measures a hit in the verified-header cache: on
// the header stored last, and on another one, found in the table.
func BenchmarkHeaderCacheGet(b *testing.B) {
	enc := base64.RawURLEncoding
	seg := []byte(enc.EncodeToString([]byte(`{"alg":"HS256","kid":"k-HS256","typ":"JWT"}`)))
	other := []byte(enc.EncodeToString([]byte(`{"alg":"HS256","kid":"k-HS257","typ":"JWT"}`)))
	var c headerCache
	c.put(seg, &Header{Alg: HS256, raw: []byte("x")})
	c.put(other, &Header{Alg: HS256, raw: []byte("y")})
	for _, hit := range []struct {
		name string
		seg  []byte
	}{{"last", other}, {"table", seg}} {
		b.Run("hit="+hit.name, func(b *testing.B) {
			for b.Loop() {
				if c.get(hit.seg) == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}
