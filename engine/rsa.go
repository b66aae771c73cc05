package engine

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"math/bits"

	"filippo.io/bigmod"
)

// rsaKey is an RSA public key decoded once at key load: the modulus with its
// Montgomery constants precomputed, so that verifying does not rebuild them
// on every call as crypto/rsa does.
type rsaKey struct {
	n    *bigmod.Modulus
	e    uint
	size int // modulus length in bytes
}

// newRSAKey precomputes pub's modulus. pub has passed checkRSA.
func newRSAKey(pub *rsa.PublicKey) (*rsaKey, error) {
	m, err := bigmod.NewModulus(pub.N.Bytes())
	if err != nil {
		return nil, keyErr("RSA modulus: %v", err)
	}
	return &rsaKey{n: m, e: uint(pub.E), size: pub.Size()}, nil
}

// pkcs1Prefix is the DER DigestInfo prefix of EMSA-PKCS1-v1_5 for each hash,
// as in crypto/rsa.
var pkcs1Prefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// verifyPKCS1v15 reports whether sig is a valid RSASSA-PKCS1-v1_5 signature
// of digest (hashed with h) under k. It gives the same verdict as
// crypto/rsa.VerifyPKCS1v15; the caller has checked len(sig) == k.size.
func (k *rsaKey) verifyPKCS1v15(h crypto.Hash, digest, sig []byte) bool {
	prefix := pkcs1Prefix[h]
	tLen := len(prefix) + len(digest)
	if len(sig) != k.size || k.size < tLen+11 {
		return false
	}
	s, err := bigmod.NewNat().SetBytes(sig, k.n) // rejects s >= n
	if err != nil {
		return false
	}
	em := bigmod.NewNat().ExpShortVarTime(s, k.e, k.n)
	// Compare em, limb by limb from the least significant end, with the
	// expected encoding 00 01 FF..FF 00 || prefix || digest.
	limbs := em.Bits()
	ok := 1
	for i := 0; i < k.size; i++ {
		pos := k.size - 1 - i // byte index in the big-endian encoding
		var want byte
		switch {
		case pos >= k.size-len(digest):
			want = digest[pos-(k.size-len(digest))]
		case pos >= k.size-tLen:
			want = prefix[pos-(k.size-tLen)]
		case pos == k.size-tLen-1:
			want = 0
		case pos >= 2:
			want = 0xff
		case pos == 1:
			want = 1
		default:
			want = 0
		}
		w := i / (bits.UintSize / 8)
		var got byte
		if w < len(limbs) {
			got = byte(limbs[w] >> (8 * uint(i%(bits.UintSize/8))))
		}
		ok &= subtle.ConstantTimeByteEq(got, want)
	}
	// Limbs beyond the modulus size must be zero (they are, em < n).
	return ok == 1
}
