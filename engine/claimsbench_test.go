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

// BenchmarkParseClaims measures the claims scan of a realistic access token
// alone, on the general path and (mode=plain) on the printable-ASCII one.
func BenchmarkParseClaims(b *testing.B) {
	data := []byte(benchPayload)
	var tok Token
	tok.grow(2 * len(data))
	for _, mode := range []struct {
		name  string
		plain bool
	}{{"general", false}, {"plain", true}} {
		b.Run("mode="+mode.name, func(b *testing.B) {
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

// BenchmarkIsPlain measures the printable-ASCII check of the same payload.
func BenchmarkIsPlain(b *testing.B) {
	data := []byte(benchPayload)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if !isPlain(data) {
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
