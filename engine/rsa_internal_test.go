package engine

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"testing"
)

// TestRSAPKCS1MatchesStdlib checks that the precomputed-modulus verify gives
// crypto/rsa's verdict on a valid signature and on hostile ones: s = 0, 1,
// n-1, n, n+1, all-FF, a PSS signature, and one bit flipped at several
// positions.
func TestRSAPKCS1MatchesStdlib(t *testing.T) {
	for _, bitsN := range []int{2048, 3072} {
		priv, rk := newTestRSAKey(t, bitsN)
		pub := &priv.PublicKey
		digest := sha256.Sum256([]byte("message"))
		good, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		pss, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Fatal(err)
		}
		cases := hostileRSASignatures(pub, good)
		cases["valid"], cases["pss"] = good, pss
		for name, sig := range cases {
			want := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
			if got := rk.verifyPKCS1v15(crypto.SHA256, digest[:], sig); got != want {
				t.Errorf("%d bits, %s: verify %v, crypto/rsa %v", bitsN, name, got, want)
			}
		}
		if !rk.verifyPKCS1v15(crypto.SHA256, digest[:], good) {
			t.Errorf("%d bits: valid signature rejected", bitsN)
		}
	}
}

// BenchmarkRSAVerify compares the precomputed-modulus RS256 verify with
// crypto/rsa.VerifyPKCS1v15, and PS256 with crypto/rsa.VerifyPSS at 2048
// bits, on the same key and signature.
func BenchmarkRSAVerify(b *testing.B) {
	for _, bitsN := range []int{2048, 3072, 4096} {
		priv, rk := newTestRSAKey(b, bitsN)
		pub := &priv.PublicKey
		digest := sha256.Sum256([]byte("message"))
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		name := "alg=RS256/bits=" + big.NewInt(int64(bitsN)).String()
		b.Run(name+"/impl=jwtgate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !rk.verifyPKCS1v15(crypto.SHA256, digest[:], sig) {
					b.Fatal("rejected")
				}
			}
		})
		b.Run(name+"/impl=stdlib", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
					b.Fatal("rejected")
				}
			}
		})
		if bitsN != 2048 {
			continue
		}
		pss, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, digest[:], pssOptions)
		if err != nil {
			b.Fatal(err)
		}
		name = "alg=PS256/bits=2048"
		b.Run(name+"/impl=jwtgate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !rk.verifyPSS(crypto.SHA256, digest[:], pss) {
					b.Fatal("rejected")
				}
			}
		})
		b.Run(name+"/impl=stdlib", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rsa.VerifyPSS(pub, crypto.SHA256, digest[:], pss, pssOptions) != nil {
					b.Fatal("rejected")
				}
			}
		})
	}
}

// FuzzRSAVerify checks that the precomputed-modulus verify gives
// crypto/rsa.VerifyPKCS1v15's verdict for any message and signature bytes,
// including a valid signature with one byte corrupted.
func FuzzRSAVerify(f *testing.F) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	pub := &priv.PublicKey
	rk, err := newRSAKey(pub)
	if err != nil {
		f.Fatal(err)
	}
	msg := []byte("message")
	d := sha256.Sum256(msg)
	good, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, d[:])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg, good, uint16(0), byte(0))
	f.Add(msg, good, uint16(5), byte(1))
	f.Add([]byte("other"), good, uint16(0), byte(0))
	f.Add(msg, make([]byte, pub.Size()), uint16(0), byte(0))
	f.Fuzz(func(t *testing.T, msg, sig []byte, at uint16, xor byte) {
		if len(sig) != pub.Size() {
			// Signatures of the wrong length are turned into the key's
			// length from the valid one, so the fuzzer explores the math.
			sig = good
		}
		sig = append([]byte(nil), sig...)
		sig[int(at)%len(sig)] ^= xor
		digest := sha256.Sum256(msg)
		want := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
		if got := rk.verifyPKCS1v15(crypto.SHA256, digest[:], sig); got != want {
			t.Fatalf("verify %v, crypto/rsa %v", got, want)
		}
	})
}

// TestRSAPKCS1HostileEncodings signs malformed EMSA-PKCS1-v1_5 encodings
// with the private key (raw RSA) and checks that both the precomputed verify
// and crypto/rsa reject each, while the well-formed one passes both.
func TestRSAPKCS1HostileEncodings(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := &priv.PublicKey
	rk, err := newRSAKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	k := pub.Size()
	digest := sha256.Sum256([]byte("message"))
	encode := func(prefix []byte, sep byte, nFF int) []byte {
		t := append(append([]byte(nil), prefix...), digest[:]...)
		em := make([]byte, k)
		em[1] = 1
		ps := k - len(t) - 3
		for i := 0; i < ps; i++ {
			em[2+i] = 0xff
		}
		if nFF < ps { // shorten the padding: zeros in its place
			for i := nFF; i < ps; i++ {
				em[2+i] = 0
			}
		}
		em[2+ps] = sep
		copy(em[3+ps:], t)
		return em
	}
	sign := func(em []byte) []byte {
		s := new(big.Int).Exp(new(big.Int).SetBytes(em), priv.D, pub.N)
		return s.FillBytes(make([]byte, k))
	}
	sha384Prefix := pkcs1Prefix[crypto.SHA384]
	badPrefix := append([]byte(nil), pkcs1Prefix[crypto.SHA256]...)
	badPrefix[14] ^= 1
	cases := []struct {
		name string
		em   []byte
		ok   bool
	}{
		{"well-formed", encode(pkcs1Prefix[crypto.SHA256], 0, k), true},
		{"SHA-384 DigestInfo", encode(sha384Prefix[:len(sha384Prefix)-1], 0, k), false},
		{"wrong DigestInfo OID", encode(badPrefix, 0, k), false},
		{"no DigestInfo", encode(nil, 0, k), false},
		{"separator 01", encode(pkcs1Prefix[crypto.SHA256], 1, k), false},
		{"7 bytes of FF", encode(pkcs1Prefix[crypto.SHA256], 0, 7), false},
	}
	for _, c := range cases {
		sig := sign(c.em)
		std := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
		got := rk.verifyPKCS1v15(crypto.SHA256, digest[:], sig)
		if got != std || got != c.ok {
			t.Errorf("%s: verify %v, crypto/rsa %v, want %v", c.name, got, std, c.ok)
		}
	}
}

// newTestRSAKey generates a bits-bit key and its precomputed form.
func newTestRSAKey(tb testing.TB, bits int) (*rsa.PrivateKey, *rsaKey) {
	tb.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatal(err)
	}
	rk, err := newRSAKey(&priv.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return priv, rk
}

// hostileRSASignatures returns, by name, signatures no RSA check under pub
// may accept: the edge values 0, 1, n-1, n and n+1 and all-FF, each as long
// as the modulus, and good with one bit flipped at several positions.
func hostileRSASignatures(pub *rsa.PublicKey, good []byte) map[string][]byte {
	k := pub.Size()
	fill := func(x *big.Int) []byte { return x.FillBytes(make([]byte, k)) }
	ff := make([]byte, k)
	for i := range ff {
		ff[i] = 0xff
	}
	one := big.NewInt(1)
	cases := map[string][]byte{
		"zero":  make([]byte, k),
		"one":   fill(one),
		"n-1":   fill(new(big.Int).Sub(pub.N, one)),
		"n":     fill(pub.N),
		"n+1":   fill(new(big.Int).Add(pub.N, one)),
		"allFF": ff,
	}
	for _, pos := range []int{0, 7, 8, 100, 8 * (k / 2), 8*k - 9, 8*k - 1} {
		c := append([]byte(nil), good...)
		c[pos/8] ^= 1 << (pos % 8)
		cases["flip"+big.NewInt(int64(pos)).String()] = c
	}
	return cases
}
