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
	"fmt"
	"math/big"
	"math/rand"
	"runtime"
	"strings"
	"sync/atomic"
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
// serially and with every core verifying the same hot token, whose entry
// stays in the core's caches. The tokens=N cases then measure hits as a
// gateway sees them (see benchCachedMany): N distinct cached tokens visited
// in random order, so that each hit finds its set, its entry and the entry's
// copy of the token out of the nearest caches.
func BenchmarkVerifyCached(b *testing.B) {
	benchCachedMany(b, engine.RS256, 1024)
	benchCachedMany(b, engine.HS256, 16384)
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

// benchCachedMany measures hits on n distinct cached tokens of alg (about
// 650 bytes for RS256, 350 for HS256, as access tokens are), visited in a
// random order, round after round. Each entry has an attachment of 192
// bytes, which each hit copies out, as the server does with the identity
// headers it keeps there. The requests are laid out one after the
// other in that order in one buffer, which the loop reads straight through,
// as a server reads requests off its sockets: the request's bytes are warm,
// the cache's are not, as in a gateway. The few tokens that hash to an
// already full set are left out.
//
// mode=serial and mode=parallel keep the cache's memory only as cold as n
// makes it: 1024 RS256 entries (about 2 MB with their tokens) overflow a
// core's L2 of 2 MiB or less; 16384 HS256 ones (about 20 MB) do on any core.
// Parallel, each goroutine follows an order of its own. mode=evict, serial,
// sweeps an 8 MiB buffer between rounds, timer stopped, so that each round
// starts with none of the cache in L1 or L2 — as between two requests of
// one user in a busy gateway, where other requests' work passes through the
// caches. The sweep does not reach a larger L3, so the hits it measures are
// L3 hits, not DRAM misses.
func benchCachedMany(b *testing.B, alg engine.Alg, n int) {
	var f *fixture
	var toks [][]byte
	setup := func(b *testing.B) {
		if f != nil {
			return
		}
		f = newFixture(b, alg, func(c *engine.Config) { c.CacheEntries = 0 })
		toks = make([][]byte, n)
		var res engine.Token
		for i := range toks {
			claims := accessClaims()
			claims["jti"] = fmt.Sprintf("%08x-7a2d-4c5e-9f8a-1b2c3d4e5f60", i)
			claims["sub"] = fmt.Sprintf("user-%010d", i)
			toks[i] = []byte(f.token(b, claims))
			if err := f.v.Verify(toks[i], &res); err != nil {
				b.Fatal(err)
			}
			f.v.Attach(&res, identityBlock(i))
		}
		// A set can be offered more than its ways: leave out the few
		// tokens it turned away, until every one left hits.
		for missed := true; missed; {
			missed = false
			kept := toks[:0]
			for _, tok := range toks {
				if err := f.v.Verify(tok, &res); err != nil {
					b.Fatal(err)
				}
				if res.FromCache() {
					kept = append(kept, tok)
				} else {
					missed = true
				}
			}
			toks = kept
		}
		n = len(toks)
	}
	// stream lays out the tokens in a random order: the requests of a round.
	type stream struct {
		buf  []byte
		ends []int
	}
	streams := func(count int) []stream {
		out := make([]stream, count)
		for k := range out {
			for _, i := range rand.New(rand.NewSource(int64(k + 1))).Perm(n) {
				out[k].buf = append(out[k].buf, toks[i]...)
				out[k].ends = append(out[k].ends, len(out[k].buf))
			}
		}
		return out
	}
	// visit makes requests round after round of st until next says stop.
	visit := func(b *testing.B, st stream, next func() bool, evict func()) {
		var res engine.Token
		resp := make([]byte, 0, 1024)
		start := 0
		for i := 0; next(); i++ {
			if i == n {
				i, start = 0, 0
				if evict != nil {
					evict()
				}
			}
			req := st.buf[start:st.ends[i]]
			start = st.ends[i]
			if err := f.v.Verify(req, &res); err != nil || !res.FromCache() || len(res.Attachment()) == 0 {
				b.Error("cache miss", err)
				return
			}
			resp = append(resp[:0], res.Attachment()...)
		}
	}
	name := fmt.Sprintf("alg=%v/tokens=%d", alg, n)
	b.Run(name+"/mode=serial", func(b *testing.B) {
		setup(b)
		st := streams(1)[0]
		b.ReportAllocs()
		b.ResetTimer()
		i := 0
		visit(b, st, func() bool { i++; return i <= b.N }, nil)
	})
	b.Run(name+"/mode=parallel", func(b *testing.B) {
		setup(b)
		sts := streams(runtime.GOMAXPROCS(0))
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			visit(b, sts[int(next.Add(1)-1)%len(sts)], pb.Next, nil)
		})
	})
	b.Run(name+"/mode=evict", func(b *testing.B) {
		setup(b)
		st := streams(1)[0]
		sweep := make([]byte, 8<<20)
		var sink byte
		evict := func() {
			b.StopTimer()
			for i := 0; i < len(sweep); i += 64 {
				sweep[i]++
				sink += sweep[i]
			}
			b.StartTimer()
		}
		b.ReportAllocs()
		evict()
		b.ResetTimer()
		i := 0
		visit(b, st, func() bool { i++; return i <= b.N }, evict)
		if sink == 1 { // keeps the sweep from being optimized away
			b.Log()
		}
	})
}

// identityBlock is a block of identity headers of the size jwtgate serve
// attaches to a cache entry.
func identityBlock(i int) []byte {
	block := fmt.Appendf(nil, "X-Auth-Subject: user-%010d\r\nX-Auth-Issuer: %s\r\nX-Auth-Scopes: openid profile read:orders write:orders\r\n", i, testIssuer)
	for len(block) < 192 {
		block = append(block, "X-Auth-Pad: 0\r\n"...)
	}
	return block[:192]
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
