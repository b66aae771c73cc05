package engine

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"math/big"
	"os"
	"testing"
)

// pssOptions are the RFC 7518 §3.5 parameters crypto/rsa checks PS* with:
// salt length equals the hash length, MGF1 with the same hash.
var pssOptions = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}

// rsaPSSWycheproofFile is the part of a Wycheproof RSASSA-PSS vector file
// (schema rsassa_pss_verify_schema_v1) the tests read.
type rsaPSSWycheproofFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		KeySize      int              `json:"keySize"`
		SHA          string           `json:"sha"`
		MGF          string           `json:"mgf"`
		MGFSHA       string           `json:"mgfSha"`
		SLen         int              `json:"sLen"`
		PublicKeyDer string           `json:"publicKeyDer"`
		Tests        []wycheproofCase `json:"tests"`
	} `json:"testGroups"`
}

// TestRSAPSSWycheproof runs Wycheproof's RSASSA-PSS vectors (see
// testdata/wycheproof/README.md) through the precomputed-modulus check,
// through a loaded Key, and through crypto/rsa.VerifyPSS: all three must
// agree with each other and, for groups with PS256/384/512's parameters
// (MGF1 with the message hash, salt as long as the hash), with the vector.
// Groups with other parameters (in rsa_pss_misc_test.json) are checked
// against crypto/rsa only, which must reject them all under JWT's
// parameters unless the vector happens to be one of them.
func TestRSAPSSWycheproof(t *testing.T) {
	ran := map[Alg]int{}
	for _, file := range []string{
		"rsa_pss_2048_sha256_mgf1_32_test.json",
		"rsa_pss_2048_sha384_mgf1_48_test.json",
		"rsa_pss_4096_sha512_mgf1_64_test.json",
		"rsa_pss_misc_test.json",
	} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/wycheproof/" + file)
			if err != nil {
				t.Fatal(err)
			}
			var f rsaPSSWycheproofFile
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, g := range f.TestGroups {
				var alg Alg
				switch g.SHA {
				case "SHA-256":
					alg = PS256
				case "SHA-384":
					alg = PS384
				case "SHA-512":
					alg = PS512
				}
				if alg == 0 {
					n += len(g.Tests) // a hash JWT has no PS* for
					continue
				}
				h := alg.Hash()
				jwtParams := g.MGF == "MGF1" && g.MGFSHA == g.SHA && g.SLen == h.Size()
				parsed, err := x509.ParsePKIXPublicKey(mustHex(t, g.PublicKeyDer))
				if err != nil {
					t.Fatal(err)
				}
				pub := parsed.(*rsa.PublicKey)
				rk, err := newRSAKey(pub)
				if err != nil {
					t.Fatal(err)
				}
				key, err := NewKey(alg, "", pub)
				if err != nil {
					t.Fatalf("NewKey(%v, %d-bit key): %v", alg, g.KeySize, err)
				}
				valid := 0
				for _, tc := range g.Tests {
					n++
					msg, sig := mustHex(t, tc.Msg), mustHex(t, tc.Sig)
					hh := h.New()
					hh.Write(msg)
					digest := hh.Sum(nil)
					std := rsa.VerifyPSS(pub, h, digest, sig, pssOptions) == nil
					got := rk.verifyPSS(h, digest, sig)
					viaKey := key.Verify(msg, sig) == nil
					if got != std || viaKey != std {
						t.Errorf("tcId %d (%s %v): precomputed %v, Key.Verify %v, crypto/rsa %v", tc.TCID, tc.Comment, tc.Flags, got, viaKey, std)
					}
					if !jwtParams {
						if got {
							t.Errorf("tcId %d (sLen %d, MGF1 %s): accepted under %v's parameters", tc.TCID, g.SLen, g.MGFSHA, alg)
						}
						continue
					}
					switch tc.Result {
					case "valid", "invalid":
						if want := tc.Result == "valid"; got != want {
							t.Errorf("tcId %d (%s %v): verify %v, want %s", tc.TCID, tc.Comment, tc.Flags, got, tc.Result)
						}
					case "acceptable":
					default:
						t.Fatalf("tcId %d: unknown result %q", tc.TCID, tc.Result)
					}
					if got {
						valid++
					}
				}
				if jwtParams {
					if valid == 0 {
						t.Errorf("group of %d bits, %s: no vector verified", g.KeySize, g.SHA)
					}
					ran[alg]++
				}
			}
			if n != f.NumberOfTests || n == 0 {
				t.Fatalf("ran %d tests, the file declares %d", n, f.NumberOfTests)
			}
		})
	}
	for _, alg := range []Alg{PS256, PS384, PS512} {
		if ran[alg] == 0 {
			t.Errorf("no Wycheproof group with %v's parameters ran", alg)
		}
	}
}

// TestRSAPSSMatchesStdlib checks verifyPSS against crypto/rsa.VerifyPSS on
// valid signatures for all three hashes, on moduli whose bit length is and
// is not a multiple of 8 plus 1 (where the encoding is one byte shorter than
// the modulus), and on hostile signatures: s = 0, 1, n-1, n, n+1, all-FF, salts of
// the wrong length, an RS256 signature, and single flipped bits.
func TestRSAPSSMatchesStdlib(t *testing.T) {
	for _, bitsN := range []int{2048, 2049, 3072} {
		priv, rk := newTestRSAKey(t, bitsN)
		pub := &priv.PublicKey
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			hh := h.New()
			hh.Write([]byte("message"))
			digest := hh.Sum(nil)
			sign := func(salt int) []byte {
				s, err := rsa.SignPSS(rand.Reader, priv, h, digest, &rsa.PSSOptions{SaltLength: salt})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			good := sign(rsa.PSSSaltLengthEqualsHash)
			pkcs1, err := rsa.SignPKCS1v15(rand.Reader, priv, h, digest)
			if err != nil {
				t.Fatal(err)
			}
			type want struct {
				sig []byte
				ok  bool
			}
			cases := map[string]want{
				"valid":       {good, true},
				"salt hLen-1": {sign(h.Size() - 1), false},
				"salt hLen+1": {sign(h.Size() + 1), false},
				"salt 0":      {sign(0), false},
				"PKCS1v15":    {pkcs1, false},
			}
			for name, sig := range hostileRSASignatures(pub, good) {
				cases[name] = want{sig, false}
			}
			for name, c := range cases {
				std := rsa.VerifyPSS(pub, h, digest, c.sig, pssOptions) == nil
				got := rk.verifyPSS(h, digest, c.sig)
				if got != std || got != c.ok {
					t.Errorf("%d bits, %v, %s: verify %v, crypto/rsa %v, want %v", bitsN, h, name, got, std, c.ok)
				}
			}
		}
	}
}

// pssEncoding describes an EMSA-PSS encoding to build, well-formed unless a
// field says otherwise.
type pssEncoding struct {
	salt    []byte
	edit    func(db []byte) // applied to the plain DB before masking
	trailer byte            // the last byte; 0xbc when well-formed
	topBits byte            // ORed into the first byte of maskedDB
	lead    byte            // the byte above emLen when emLen < k
}

// pssEncode builds e's EMSA-PSS encoding of digest with hash h for a modulus
// of modBits bits, as a k-byte big-endian integer.
func pssEncode(h crypto.Hash, digest []byte, modBits, k int, e pssEncoding) []byte {
	hLen := h.Size()
	emBits := modBits - 1
	emLen := (emBits + 7) / 8
	mp := make([]byte, 8, 8+hLen+len(e.salt))
	mp = append(append(mp, digest...), e.salt...)
	hh := h.New()
	hh.Write(mp)
	hv := hh.Sum(nil)
	db := make([]byte, emLen-hLen-1)
	db[len(db)-len(e.salt)-1] = 0x01
	copy(db[len(db)-len(e.salt):], e.salt)
	if e.edit != nil {
		e.edit(db)
	}
	mgf1XOR(db, h, hv)
	db[0] &= 0xff >> (8*emLen - emBits)
	db[0] |= e.topBits
	em := make([]byte, k)
	off := k - emLen
	if off > 0 {
		em[0] = e.lead
	}
	copy(em[off:], db)
	copy(em[off+len(db):], hv)
	em[k-1] = e.trailer
	return em
}

// TestRSAPSSHostileEncodings signs malformed EMSA-PSS encodings with the
// private key (raw RSA) and checks that both verifyPSS and crypto/rsa reject
// each, while the well-formed one passes both: wrong trailer, the bits above
// emBits set, a nonzero byte above emLen (moduli of 8m+1 bits), nonzero
// padding, a missing 0x01 separator, and salts one byte short or long.
func TestRSAPSSHostileEncodings(t *testing.T) {
	for _, modBits := range []int{2048, 2049} {
		priv, err := rsa.GenerateKey(rand.Reader, modBits)
		if err != nil {
			t.Fatal(err)
		}
		pub := &priv.PublicKey
		rk, err := newRSAKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		k := pub.Size()
		h := crypto.SHA256
		digest := sha256.Sum256([]byte("message"))
		emLen := (modBits - 1 + 7) / 8
		psLen := emLen - 2*h.Size() - 2
		salt := func(n int) []byte {
			s := make([]byte, n)
			for i := range s {
				s[i] = byte(i + 1)
			}
			return s
		}
		cases := []struct {
			name string
			e    pssEncoding
			ok   bool
		}{
			{"well-formed", pssEncoding{trailer: 0xbc}, true},
			{"trailer bd", pssEncoding{trailer: 0xbd}, false},
			{"trailer 00", pssEncoding{trailer: 0x00}, false},
			{"PS not zero (first)", pssEncoding{trailer: 0xbc, edit: func(db []byte) { db[0] = 1 }}, false},
			{"PS not zero (last)", pssEncoding{trailer: 0xbc, edit: func(db []byte) { db[psLen-1] = 0x80 }}, false},
			{"missing 01", pssEncoding{trailer: 0xbc, edit: func(db []byte) { db[psLen] = 0 }}, false},
			{"separator 02", pssEncoding{trailer: 0xbc, edit: func(db []byte) { db[psLen] = 2 }}, false},
			{"salt hLen-1", pssEncoding{trailer: 0xbc, salt: salt(h.Size() - 1)}, false},
			{"salt hLen+1", pssEncoding{trailer: 0xbc, salt: salt(h.Size() + 1)}, false},
		}
		if emLen == k {
			cases = append(cases, struct {
				name string
				e    pssEncoding
				ok   bool
			}{"top bit set", pssEncoding{trailer: 0xbc, topBits: 0x80}, false})
		} else {
			cases = append(cases, struct {
				name string
				e    pssEncoding
				ok   bool
			}{"leading byte 01", pssEncoding{trailer: 0xbc, lead: 1}, false})
		}
		for _, c := range cases {
			if c.e.salt == nil {
				c.e.salt = salt(h.Size())
			}
			// The encoding must lie below n to be signed: vary the salt's
			// first byte (which changes the mask) until it does.
			var em []byte
			for try := 0; ; try++ {
				if try == 256 {
					t.Fatalf("%d bits, %s: no encoding below the modulus", modBits, c.name)
				}
				c.e.salt[0] = byte(try)
				em = pssEncode(h, digest[:], modBits, k, c.e)
				if new(big.Int).SetBytes(em).Cmp(pub.N) < 0 {
					break
				}
			}
			sig := new(big.Int).Exp(new(big.Int).SetBytes(em), priv.D, pub.N).FillBytes(make([]byte, k))
			std := rsa.VerifyPSS(pub, h, digest[:], sig, pssOptions) == nil
			got := rk.verifyPSS(h, digest[:], sig)
			if got != std || got != c.ok {
				t.Errorf("%d bits, %s: verify %v, crypto/rsa %v, want %v", modBits, c.name, got, std, c.ok)
			}
		}
	}
}

// FuzzRSAPSSVerify checks that verifyPSS gives crypto/rsa.VerifyPSS's
// verdict for any message and signature bytes, including a valid signature
// with one byte corrupted.
func FuzzRSAPSSVerify(f *testing.F) {
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
	good, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, d[:], pssOptions)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg, good, uint16(0), byte(0))
	f.Add(msg, good, uint16(5), byte(1))
	f.Add(msg, good, uint16(255), byte(0x80))
	f.Add([]byte("other"), good, uint16(0), byte(0))
	f.Add(msg, make([]byte, pub.Size()), uint16(0), byte(0))
	f.Fuzz(func(t *testing.T, msg, sig []byte, at uint16, xor byte) {
		if len(sig) != pub.Size() {
			sig = good
		}
		sig = append([]byte(nil), sig...)
		sig[int(at)%len(sig)] ^= xor
		digest := sha256.Sum256(msg)
		want := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, pssOptions) == nil
		if got := rk.verifyPSS(crypto.SHA256, digest[:], sig); got != want {
			t.Fatalf("verify %v, crypto/rsa %v", got, want)
		}
	})
}
