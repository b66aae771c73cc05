package engine

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

// FuzzEd25519Verify checks that edKey.verify gives crypto/ed25519.Verify's
// verdict for any public key, message and signature bytes.
func FuzzEd25519Verify(f *testing.F) {
	pub, priv := seededKey(7)
	msg := []byte("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJmdXp6In0")
	sig := ed25519.Sign(priv, msg)
	f.Add([]byte(pub), msg, sig)
	f.Add([]byte(pub), msg, sig[:63])
	l := edgeScalars()[3]
	for _, p := range smallOrderEncodings(f) {
		f.Add(p, msg, append(bytes.Clone(p), make([]byte, 32)...))
		f.Add(p, msg, append(bytes.Clone(sig[:32]), l...))
	}
	keys := newEdKeyCache()
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		std := stdVerify(pub, msg, sig)
		k, err := keys.get(pub)
		if got := err == nil && k.verify(msg, sig); got != std {
			t.Fatalf("key %x sig %x: verify %v, crypto/ed25519 %v", pub, sig, got, std)
		}
	})
}

// FuzzEd25519Signed signs msg with one of 256 keys, chosen by seed, then
// XORs tweak into the signature, so that valid signatures and near misses
// are common, and checks that edKey.verify gives crypto/ed25519.Verify's
// verdict. The keys are few so that their tables are built once per worker.
func FuzzEd25519Signed(f *testing.F) {
	f.Add(byte(1), []byte("header.payload"), []byte{})
	f.Add(byte(2), []byte(""), append(make([]byte, 32), 1))
	f.Add(byte(3), []byte("x"), append(make([]byte, 63), 0x10))
	keys := newEdKeyCache()
	f.Fuzz(func(t *testing.T, seed byte, msg, tweak []byte) {
		pub, priv := seededKey(seed)
		sig := ed25519.Sign(priv, msg)
		for i := range min(len(tweak), len(sig)) {
			sig[i] ^= tweak[i]
		}
		k, err := keys.get(pub)
		if err != nil {
			t.Fatalf("key %x: %v", pub, err)
		}
		std := ed25519.Verify(pub, msg, sig)
		if got := k.verify(msg, sig); got != std {
			t.Fatalf("key %x sig %x: verify %v, crypto/ed25519 %v", pub, sig, got, std)
		}
	})
}

// edKeyCache keeps the keys a fuzz worker has built, so that inputs that
// differ only in message or signature skip the table build (the fuzzer's
// common case). It forgets everything when full.
type edKeyCache map[[32]byte]*edKey

func newEdKeyCache() edKeyCache { return make(edKeyCache) }

// get returns newEdKey(pub), from the cache when it has it.
func (c edKeyCache) get(pub []byte) (*edKey, error) {
	if len(pub) != 32 {
		return newEdKey(pub)
	}
	if k, ok := c[[32]byte(pub)]; ok {
		return k, nil
	}
	k, err := newEdKey(pub)
	if err != nil {
		return nil, err
	}
	if len(c) >= 256 {
		clear(c)
	}
	c[[32]byte(pub)] = k
	return k, nil
}
