package engine

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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
