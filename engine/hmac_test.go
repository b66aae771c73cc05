package engine

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// hmacBlocks are the compression functions this build has: the Go
// reference always, the SHA-NI kernel where the CPU runs it.
func hmacBlocks() map[string]bool {
	m := map[string]bool{"go": false}
	if useSHANI {
		m["shani"] = true
	}
	return m
}

// TestSHA256Block compares each compression function with crypto/sha256
// over whole messages of 0..20 blocks.
func TestSHA256Block(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, kernel := range hmacBlocks() {
		for n := 0; n <= 300; n++ {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = byte(rng.Uint32())
			}
			h := sha256IV
			full := n &^ 63
			compress(&h, msg[:full], kernel)
			var tail [128]byte
			k := copy(tail[:], msg[full:])
			tail[k] = 0x80
			end := 64
			if k >= 56 {
				end = 128
			}
			for i := 0; i < 8; i++ {
				tail[end-1-i] = byte(uint64(n) * 8 >> (8 * i))
			}
			compress(&h, tail[:end], kernel)
			var got [32]byte
			for i, v := range h {
				got[4*i], got[4*i+1], got[4*i+2], got[4*i+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
			}
			if want := sha256.Sum256(msg); got != want {
				t.Fatalf("%s: SHA-256 of %d bytes = %x, want %x", name, n, got, want)
			}
		}
	}
}

// TestHMACPadsDifferential compares hmacPads with crypto/hmac for every
// message length 0..300 at the key lengths HS256 accepts around the block.
func TestHMACPadsDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, kernel := range hmacBlocks() {
		for _, kl := range []int{32, 33, 63, 64, 65, 100, 131, 200} {
			key := make([]byte, kl)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			pads := newHMACPads(key, kernel)
			for n := 0; n <= 300; n++ {
				msg := make([]byte, n)
				for i := range msg {
					msg[i] = byte(rng.Uint32())
				}
				m := hmac.New(sha256.New, key)
				m.Write(msg)
				want := m.Sum(nil)
				var got [32]byte
				pads.sum(&got, msg, kernel)
				if !bytes.Equal(got[:], want) {
					t.Fatalf("%s key %d msg %d: %x, want %x", name, kl, n, got, want)
				}
				if !pads.verify(msg, want, kernel) {
					t.Fatalf("%s key %d msg %d: verify refused the right MAC", name, kl, n)
				}
				want[n%32] ^= 1
				if pads.verify(msg, want, kernel) {
					t.Fatalf("%s key %d msg %d: verify accepted a wrong MAC", name, kl, n)
				}
			}
		}
	}
}

// rfc4231 are the HMAC-SHA-256 test cases of RFC 4231 §4.2–4.8 (case 5's
// MAC is truncated to 128 bits).
var rfc4231 = []struct {
	key, data []byte
	mac       string
}{
	{bytes.Repeat([]byte{0x0b}, 20), []byte("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{[]byte("Jefe"), []byte("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{bytes.Repeat([]byte{0xaa}, 20), bytes.Repeat([]byte{0xdd}, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}, bytes.Repeat([]byte{0xcd}, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	{bytes.Repeat([]byte{0x0c}, 20), []byte("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"},
	{bytes.Repeat([]byte{0xaa}, 131), []byte("Test Using Larger Than Block-Size Key - Hash Key First"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	{bytes.Repeat([]byte{0xaa}, 131), []byte("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
}

// TestHMACRFC4231 runs RFC 4231's cases through hmacPads with each
// compression function, and the ones with a key HS256 accepts (≥ 32 bytes)
// through Key.Verify.
func TestHMACRFC4231(t *testing.T) {
	for i, tc := range rfc4231 {
		want, _ := hex.DecodeString(tc.mac)
		for name, kernel := range hmacBlocks() {
			var got [32]byte
			newHMACPads(tc.key, kernel).sum(&got, tc.data, kernel)
			if !bytes.Equal(got[:len(want)], want) {
				t.Errorf("case %d %s: %x, want %s", i+1, name, got[:len(want)], tc.mac)
			}
		}
		if len(tc.key) < 32 || len(want) != 32 {
			continue
		}
		k, err := NewKey(HS256, "k", tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify(tc.data, want); err != nil {
			t.Errorf("case %d: Key.Verify: %v", i+1, err)
		}
		bad := bytes.Clone(want)
		bad[31] ^= 0x80
		if err := k.Verify(tc.data, bad); !errors.Is(err, ErrBadSignature) {
			t.Errorf("case %d: Key.Verify of a wrong MAC: %v, want ErrBadSignature", i+1, err)
		}
	}
}

// FuzzHMACSHA256 checks Key.Verify's verdict for HS256 and hmacPads' MAC
// against crypto/hmac for any key HS256 accepts, message and signature.
func FuzzHMACSHA256(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0xaa}, 131), []byte("message"), make([]byte, 32))
	f.Add(bytes.Repeat([]byte{1}, 64), bytes.Repeat([]byte{2}, 119), []byte{1})
	f.Fuzz(func(t *testing.T, key, msg, sig []byte) {
		if len(key) < 32 {
			return
		}
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		want := m.Sum(nil)
		for name, kernel := range hmacBlocks() {
			var got [32]byte
			newHMACPads(key, kernel).sum(&got, msg, kernel)
			if !bytes.Equal(got[:], want) {
				t.Fatalf("%s: %x, want %x", name, got, want)
			}
		}
		k, err := NewKey(HS256, "k", key)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify(msg, want); err != nil {
			t.Fatalf("Verify of the right MAC: %v", err)
		}
		if err, ok := k.Verify(msg, sig), hmac.Equal(sig, want); (err == nil) != ok {
			t.Fatalf("Verify(sig %x) = %v, crypto/hmac says equal = %v", sig, err, ok)
		}
	})
}

// BenchmarkHMACSHA256 compares hmacPads (the kernel where the CPU has it)
// with crypto/hmac's Reset/Write/Sum on the same key and input.
func BenchmarkHMACSHA256(b *testing.B) {
	key := bytes.Repeat([]byte{7}, 32)
	for _, n := range []int{64, 360, 1024} {
		msg := bytes.Repeat([]byte{'a'}, n)
		b.Run(fmt.Sprintf("len=%d/impl=jwtgate", n), func(b *testing.B) {
			pads := newHMACPads(key, useSHANI)
			var mac [32]byte
			b.SetBytes(int64(n))
			for b.Loop() {
				pads.sum(&mac, msg, useSHANI)
			}
		})
		b.Run(fmt.Sprintf("len=%d/impl=crypto/hmac", n), func(b *testing.B) {
			m := hmac.New(sha256.New, key)
			var mac [32]byte
			b.SetBytes(int64(n))
			for b.Loop() {
				m.Reset()
				m.Write(msg)
				m.Sum(mac[:0])
			}
		})
	}
}

// TestCheckMAC flips every bit of a signature, one at a time and in pairs
// across the words equalMAC compares, and checks that checkMAC refuses
// each and accepts only the MAC itself, with verify's errors for empty and
// mis-sized signatures.
func TestCheckMAC(t *testing.T) {
	var k Key
	var mac [32]byte
	for i := range mac {
		mac[i] = byte(i*37 + 11)
	}
	if err := k.checkMAC(&mac, bytes.Clone(mac[:])); err != nil {
		t.Fatalf("the MAC itself: %v", err)
	}
	for bit := range 256 {
		sig := bytes.Clone(mac[:])
		sig[bit/8] ^= 1 << (bit % 8)
		if err := k.checkMAC(&mac, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("bit %d flipped: %v", bit, err)
		}
		for other := bit + 64; other < 256; other += 64 {
			sig := bytes.Clone(sig)
			sig[other/8] ^= 1 << (other % 8)
			if err := k.checkMAC(&mac, sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("bits %d and %d flipped: %v", bit, other, err)
			}
		}
	}
	for _, n := range []int{1, 31, 33, 64} {
		sig := make([]byte, n)
		copy(sig, mac[:])
		if err := k.checkMAC(&mac, sig); !errors.Is(err, errSigLength) {
			t.Errorf("%d-byte signature: %v", n, err)
		}
	}
	if err := k.checkMAC(&mac, nil); !errors.Is(err, errSigEmpty) {
		t.Errorf("empty signature: %v", err)
	}
}
