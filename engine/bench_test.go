package engine_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// BenchmarkVerify measures the full verify of a realistic access token per
// algorithm (impl=jwtgate, token cache off) beside the bare standard-library
// primitive on the same signing input (impl=floor): hash plus signature check,
// with everything else prepared outside the loop. The difference is
// jwtgate's own cost: parsing, key lookup and claims policy.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range engine.Algorithms() {
		var f *fixture
		var tok string
		var raw []byte
		setup := func(b *testing.B) {
			if f == nil {
				f = newFixture(b, alg, nil)
				tok = f.token(b, accessClaims())
				raw = []byte(tok)
			}
		}
		b.Run("alg="+alg.String()+"/impl=jwtgate", func(b *testing.B) {
			setup(b)
			var res engine.Token
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if err := f.v.Verify(raw, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("alg="+alg.String()+"/impl=floor", func(b *testing.B) {
			setup(b)
			check := floorVerifier(b, f, tok)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if !check() {
					b.Fatal("floor rejected the token")
				}
			}
		})
	}
}

// BenchmarkVerifyCached measures a verified-token cache hit per algorithm,
// serially and with every core verifying (the same small set of hot tokens).
func BenchmarkVerifyCached(b *testing.B) {
	for _, alg := range engine.Algorithms() {
		f := newFixture(b, alg, func(c *engine.Config) { c.CacheEntries = 0 })
		raw := []byte(f.token(b, accessClaims()))
		var warm engine.Token
		if err := f.v.Verify(raw, &warm); err != nil {
			b.Fatal(err)
		}
		b.Run("alg="+alg.String()+"/mode=serial", func(b *testing.B) {
			var res engine.Token
			b.ReportAllocs()
			for b.Loop() {
				if err := f.v.Verify(raw, &res); err != nil || !res.FromCache() {
					b.Fatal("cache miss", err)
				}
			}
		})
		b.Run("alg="+alg.String()+"/mode=parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var res engine.Token
				for pb.Next() {
					if err := f.v.Verify(raw, &res); err != nil || !res.FromCache() {
						b.Error("cache miss", err)
						return
					}
				}
			})
		})
	}
}

// floorVerifier returns the bare primitive's check of tok's signature.
func floorVerifier(tb testing.TB, f *fixture, tok string) func() bool {
	tb.Helper()
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		tb.Fatal(err)
	}
	alg := f.key.Alg()
	h := alg.Hash()
	buf := make([]byte, 0, 64) // the digest's home, allocated once as jwtgate's scratch is
	switch pub := f.key.Public().(type) {
	case *rsa.PublicKey:
		if alg >= engine.PS256 {
			opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
			return func() bool { return rsa.VerifyPSS(pub, h, digest(buf, h, input), sig, opts) == nil }
		}
		return func() bool { return rsa.VerifyPKCS1v15(pub, h, digest(buf, h, input), sig) == nil }
	case *ecdsa.PublicKey:
		der := derSignature(sig)
		return func() bool { return ecdsa.VerifyASN1(pub, digest(buf, h, input), der) }
	case ed25519.PublicKey:
		return func() bool { return ed25519.Verify(pub, input, sig) }
	}
	mac := hmac.New(h.New, f.signer.Private.([]byte))
	var sum [64]byte
	return func() bool {
		mac.Reset()
		mac.Write(input)
		return hmac.Equal(mac.Sum(sum[:0]), sig)
	}
}

// digest hashes input into buf without allocating, as the floor should.
func digest(buf []byte, h crypto.Hash, input []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(input)
		return append(buf[:0], d[:]...)
	case crypto.SHA512:
		d := sha512.Sum512(input)
		return append(buf[:0], d[:]...)
	}
	d := sha256.Sum256(input)
	return append(buf[:0], d[:]...)
}

func derSignature(p1363 []byte) []byte {
	half := len(p1363) / 2
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(p1363[:half]), new(big.Int).SetBytes(p1363[half:]),
	})
	if err != nil {
		panic(err)
	}
	return der
}
