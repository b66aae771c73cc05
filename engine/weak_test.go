package engine

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// rocaModulus builds a 2048-bit odd modulus with the ROCA structure:
// modulo every fingerprint prime it is a power of 65537.
func rocaModulus(t *testing.T) *big.Int {
	m := big.NewInt(1)
	for _, p := range rocaPrimes {
		m.Mul(m, new(big.Int).SetUint64(p))
	}
	r := new(big.Int).Exp(big.NewInt(65537), big.NewInt(987654321), m)
	for {
		k, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(2048-m.BitLen())))
		if err != nil {
			t.Fatal(err)
		}
		n := new(big.Int).Add(new(big.Int).Mul(k, m), r)
		if n.Bit(0) == 0 {
			n.Add(n, m) // m is odd: n becomes odd, residues unchanged
		}
		if n.BitLen() == 2048 {
			return n
		}
	}
}

func TestROCAKeysRejected(t *testing.T) {
	_, err := NewKey(RS256, "roca", &rsa.PublicKey{N: rocaModulus(t), E: 65537})
	if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "ROCA fingerprint") {
		t.Fatalf("ROCA-structured modulus: got %v", err)
	}
	for i := 0; i < 3; i++ {
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		if hasROCAFingerprint(priv.N) {
			t.Fatal("a fresh key has the ROCA fingerprint")
		}
	}
}

// edPoint encodes y (and the sign of x) as an Ed25519 public key.
func edPoint(y *big.Int, sign byte) ed25519.PublicKey {
	var b [32]byte
	y.FillBytes(b[:])
	le := reversed(b[:])
	le[31] |= sign << 7
	return le
}

func TestEd25519WeakKeysRejected(t *testing.T) {
	order8, _ := hex.DecodeString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	pMinus1 := new(big.Int).Sub(p25519, big.NewInt(1))
	var offCurve *big.Int // a y whose x² is not a square
	for y := int64(2); offCurve == nil; y++ {
		if checkEd25519(edPoint(big.NewInt(y), 0)) != nil {
			offCurve = big.NewInt(y)
		}
	}
	cases := []struct {
		name string
		key  ed25519.PublicKey
		text string
	}{
		{"y=0 (order 4)", edPoint(big.NewInt(0), 0), "small order"},
		{"identity", edPoint(big.NewInt(1), 0), "identity point"},
		{"y=p-1 (order 2)", edPoint(pMinus1, 0), "small order"},
		{"order 8", order8, "small order"},
		{"y=p (non-canonical 0)", edPoint(p25519, 0), "not canonically encoded"},
		{"x=0 with sign bit", edPoint(big.NewInt(1), 1), "not a point on the curve"},
		{"off the curve", edPoint(offCurve, 0), "not a point on the curve"},
		{"short", make(ed25519.PublicKey, 31), "must be 32 bytes"},
	}
	for _, c := range cases {
		_, err := NewKey(EdDSA, "weak", c.key)
		if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: got %v, want ErrInvalidKey mentioning %q", c.name, err, c.text)
		}
	}
	for i := 0; i < 20; i++ {
		pub, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewKey(EdDSA, "ok", pub); err != nil {
			t.Fatalf("a generated key was rejected: %v", err)
		}
	}
}
