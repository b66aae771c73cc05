package engine

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"math/bits"

	"filippo.io/bigmod"
)

// rsaKey is an RSA public key decoded once at key load: the modulus with its
// Montgomery constants precomputed, so that verifying does not rebuild them
// on every call as crypto/rsa does.
type rsaKey struct {
	n       *bigmod.Modulus
	e       uint
	size    int // modulus length in bytes
	modBits int // modulus length in bits
}

// newRSAKey precomputes pub's modulus. pub has passed checkRSA.
func newRSAKey(pub *rsa.PublicKey) (*rsaKey, error) {
	m, err := bigmod.NewModulus(pub.N.Bytes())
	if err != nil {
		return nil, keyErr("RSA modulus: %v", err)
	}
	return &rsaKey{n: m, e: uint(pub.E), size: pub.Size(), modBits: pub.N.BitLen()}, nil
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

// verifyPSS reports whether sig is a valid RSASSA-PSS signature of digest
// (hashed with h) under k, with MGF1 over h and a salt as long as the hash
// (RFC 7518 §3.5). It performs RFC 8017 §9.1.2 EMSA-PSS-VERIFY and gives the
// same verdict as crypto/rsa.VerifyPSS with
// SaltLength: rsa.PSSSaltLengthEqualsHash.
func (k *rsaKey) verifyPSS(h crypto.Hash, digest, sig []byte) bool {
	hLen := h.Size()
	sLen := hLen
	if len(sig) != k.size || len(digest) != hLen || k.size > MaxRSABits/8 {
		return false
	}
	s, err := bigmod.NewNat().SetBytes(sig, k.n) // rejects s >= n
	if err != nil {
		return false
	}
	var buf [MaxRSABits / 8]byte
	em := buf[:k.size]
	limbsToBytes(em, bigmod.NewNat().ExpShortVarTime(s, k.e, k.n).Bits())

	emBits := k.modBits - 1
	emLen := (emBits + 7) / 8
	// em has the modulus's length; when emBits is a multiple of 8 the
	// encoding is one byte shorter and the leading byte must be zero.
	for len(em) > emLen {
		if em[0] != 0 {
			return false
		}
		em = em[1:]
	}
	if emLen < hLen+sLen+2 {
		return false
	}
	if em[emLen-1] != 0xbc {
		return false
	}
	db := em[:emLen-hLen-1]
	hh := em[emLen-hLen-1 : emLen-1]
	bitMask := byte(0xff >> (8*emLen - emBits))
	if em[0]&^bitMask != 0 {
		return false
	}
	mgf1XOR(db, h, hh)
	db[0] &= bitMask
	psLen := emLen - hLen - sLen - 2
	for _, b := range db[:psLen] {
		if b != 0 {
			return false
		}
	}
	if db[psLen] != 0x01 {
		return false
	}
	salt := db[len(db)-sLen:]
	// H' = Hash(00 00 00 00 00 00 00 00 || mHash || salt)
	var m [8 + 2*sha512.Size]byte
	n := 8 + copy(m[8:], digest)
	n += copy(m[n:], salt)
	var sum [sha512.Size]byte
	return subtle.ConstantTimeCompare(hashInto(&sum, h, m[:n]), hh) == 1
}

// limbsToBytes writes the little-endian limbs of a number into dst as
// big-endian bytes, dropping any bytes beyond len(dst).
func limbsToBytes(dst []byte, limbs []uint) {
	const w = bits.UintSize / 8
	for i := range dst {
		var b byte
		if l := i / w; l < len(limbs) {
			b = byte(limbs[l] >> (8 * uint(i%w)))
		}
		dst[len(dst)-1-i] = b
	}
}

// mgf1XOR XORs db with MGF1(seed) over h (RFC 8017 §B.2.1), hashing on the
// stack so that nothing escapes to the heap.
func mgf1XOR(db []byte, h crypto.Hash, seed []byte) {
	var in [sha512.Size + 4]byte
	n := copy(in[:], seed)
	var sum [sha512.Size]byte
	for counter := uint32(0); len(db) > 0; counter++ {
		binary.BigEndian.PutUint32(in[n:], counter)
		mask := hashInto(&sum, h, in[:n+4])
		m := min(len(mask), len(db))
		subtle.XORBytes(db[:m], db[:m], mask[:m])
		db = db[m:]
	}
}

// hashInto hashes in with h (SHA-256, SHA-384 or SHA-512) into dst and
// returns the digest as a slice of dst.
func hashInto(dst *[sha512.Size]byte, h crypto.Hash, in []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(in)
		return dst[:copy(dst[:], d[:])]
	case crypto.SHA384:
		d := sha512.Sum384(in)
		return dst[:copy(dst[:], d[:])]
	default:
		d := sha512.Sum512(in)
		return dst[:copy(dst[:], d[:])]
	}
}
