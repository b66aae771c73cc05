package engine

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"os"
	"testing"
)

// rsaWycheproofFile is the part of a Wycheproof RSASSA-PKCS1-v1_5 vector file
// (schema rsassa_pkcs1_verify_schema) the tests read.
type rsaWycheproofFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		KeySize      int              `json:"keySize"`
		SHA          string           `json:"sha"`
		PublicKeyDer string           `json:"publicKeyDer"`
		Tests        []wycheproofCase `json:"tests"`
	} `json:"testGroups"`
}

// TestRSAPKCS1Wycheproof runs Wycheproof's RSASSA-PKCS1-v1_5 vectors (see
// testdata/wycheproof/README.md) for RS256, RS384 and RS512 through the
// precomputed-modulus check, through a loaded Key, and through
// crypto/rsa.VerifyPKCS1v15: all three must agree with each other and with
// the vector ("acceptable" vectors: with crypto/rsa).
func TestRSAPKCS1Wycheproof(t *testing.T) {
	for _, c := range []struct {
		file string
		alg  Alg
	}{
		{"rsa_signature_2048_sha256_test.json", RS256},
		{"rsa_signature_3072_sha384_test.json", RS384},
		{"rsa_signature_4096_sha512_test.json", RS512},
	} {
		t.Run(c.alg.String(), func(t *testing.T) {
			raw, err := os.ReadFile("testdata/wycheproof/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			var file rsaWycheproofFile
			if err := json.Unmarshal(raw, &file); err != nil {
				t.Fatal(err)
			}
			h := c.alg.Hash()
			n, valid := 0, 0
			for _, g := range file.TestGroups {
				if g.SHA != hashName(h) {
					t.Fatalf("group of %d bits hashes with %s, want %s", g.KeySize, g.SHA, hashName(h))
				}
				parsed, err := x509.ParsePKIXPublicKey(mustHex(t, g.PublicKeyDer))
				if err != nil {
					t.Fatal(err)
				}
				pub := parsed.(*rsa.PublicKey)
				rk, err := newRSAKey(pub)
				if err != nil {
					t.Fatal(err)
				}
				key, err := NewKey(c.alg, "", pub)
				if err != nil {
					t.Fatalf("NewKey(%v, %d-bit key): %v", c.alg, g.KeySize, err)
				}
				for _, tc := range g.Tests {
					n++
					msg, sig := mustHex(t, tc.Msg), mustHex(t, tc.Sig)
					hh := h.New()
					hh.Write(msg)
					digest := hh.Sum(nil)
					std := rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
					got := len(sig) == pub.Size() && rk.verifyPKCS1v15(h, digest, sig)
					viaKey := key.Verify(msg, sig) == nil
					if got != std || viaKey != std {
						t.Errorf("tcId %d (%s %v): precomputed %v, Key.Verify %v, crypto/rsa %v", tc.TCID, tc.Comment, tc.Flags, got, viaKey, std)
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
			}
			if n != file.NumberOfTests || n == 0 || valid == 0 {
				t.Fatalf("ran %d tests (%d valid), the file declares %d", n, valid, file.NumberOfTests)
			}
		})
	}
}

// hashName is Wycheproof's name for h.
func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return "SHA-256"
	case crypto.SHA384:
		return "SHA-384"
	}
	return "SHA-512"
}
