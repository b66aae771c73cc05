package engine

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
)

// hmacPads holds the SHA-256 chaining states after compressing the key
// block XORed with ipad and with opad (RFC 2104), computed once per key.
type hmacPads struct {
	inner, outer [8]uint32
}

// sha256IV is the SHA-256 initial hash value (FIPS 180-4 §5.3.3).
var sha256IV = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// newHMACPads precomputes the pads of secret, compressing with the SHA-NI
// kernel if kernel is set, else with sha256BlockGo.
// A secret longer than the 64-byte block is hashed first.
func newHMACPads(secret []byte, kernel bool) *hmacPads {
	var key [64]byte
	if len(secret) > 64 {
		sum := sha256.Sum256(secret)
		copy(key[:], sum[:])
	} else {
		copy(key[:], secret)
	}
	p := &hmacPads{inner: sha256IV, outer: sha256IV}
	var pad [64]byte
	for i, b := range key {
		pad[i] = b ^ 0x36
	}
	compress(&p.inner, pad[:], kernel)
	for i, b := range key {
		pad[i] = b ^ 0x5c
	}
	compress(&p.outer, pad[:], kernel)
	return p
}

// sum writes HMAC-SHA256(key, msg) into mac, compressing as kernel says
// (see compress).
func (p *hmacPads) sum(mac *[32]byte, msg []byte, kernel bool) {
	var r hmacRun
	r.start(p, msg, kernel)
	*mac = *r.finish()
}

// hmacRun is one HMAC-SHA256 computation whose message blocks can be
// compressed one at a time between other work. The compressions form one
// long dependency chain that keeps the CPU's SHA unit busy and leaves its
// other execution ports mostly idle; work issued between two steps runs
// beside the chain instead of after it. The zero value has nothing to
// compute: finish returns an all-zero MAC.
type hmacRun struct {
	pads    *hmacPads
	h       [8]uint32
	rest    []byte // message bytes not yet compressed
	n       int    // message length
	pending bool   // started, and the MAC is not computed yet
	kernel  bool
	mac     [32]byte
}

// start begins HMAC-SHA256(key, msg) with key's pads p, compressing as
// kernel says (see compress). msg must not change until finish.
func (r *hmacRun) start(p *hmacPads, msg []byte, kernel bool) {
	r.pads, r.h, r.rest, r.n, r.pending, r.kernel = p, p.inner, msg, len(msg), true, kernel
}

// step compresses the next whole message block, if one is left. The
// padded last block and the outer block are finish's: they are few, and
// they wait on the chain instead of running beside it.
func (r *hmacRun) step() {
	if len(r.rest) >= 64 {
		compress(&r.h, r.rest[:64:64], r.kernel)
		r.rest = r.rest[64:]
	}
}

// finish does every compression left and returns the MAC.
func (r *hmacRun) finish() *[32]byte {
	if !r.pending {
		return &r.mac
	}
	if full := len(r.rest) &^ 63; full > 0 {
		compress(&r.h, r.rest[:full:full], r.kernel)
		r.rest = r.rest[full:]
	}
	// The last, partial block with the padding and the length (FIPS 180-4
	// §5.1.1): one block, or two when fewer than 9 bytes are free.
	var tail [128]byte
	n := copy(tail[:], r.rest)
	tail[n] = 0x80
	end := 64
	if n >= 56 {
		end = 128
	}
	binary.BigEndian.PutUint64(tail[end-8:end], uint64(64+r.n)*8)
	compress(&r.h, tail[:end], r.kernel)
	// The outer hash of the inner one.
	var block [64]byte
	for i, v := range r.h {
		binary.BigEndian.PutUint32(block[4*i:], v)
	}
	block[32] = 0x80
	binary.BigEndian.PutUint64(block[56:], (64+32)*8)
	h := r.pads.outer
	compress(&h, block[:], r.kernel)
	for i, v := range h {
		binary.BigEndian.PutUint32(r.mac[4*i:], v)
	}
	r.rest, r.pending = nil, false
	return &r.mac
}

// verify reports whether sig is HMAC-SHA256(key, msg), in constant time.
func (p *hmacPads) verify(msg, sig []byte, kernel bool) bool {
	var mac [32]byte
	p.sum(&mac, msg, kernel)
	return subtle.ConstantTimeCompare(mac[:], sig) == 1
}

// equalMAC reports whether a and b are equal in time independent of their
// contents: the XORs of their four words, ORed, then one test.
func equalMAC(a, b *[32]byte) bool {
	x := (binary.LittleEndian.Uint64(a[0:]) ^ binary.LittleEndian.Uint64(b[0:])) |
		(binary.LittleEndian.Uint64(a[8:]) ^ binary.LittleEndian.Uint64(b[8:])) |
		(binary.LittleEndian.Uint64(a[16:]) ^ binary.LittleEndian.Uint64(b[16:])) |
		(binary.LittleEndian.Uint64(a[24:]) ^ binary.LittleEndian.Uint64(b[24:]))
	return x == 0
}

// compress compresses the whole blocks of p into h with the SHA-NI kernel
// if kernel is set, else with sha256BlockGo. Direct calls, not a function
// value, keep the callers' stack buffers on the stack.
func compress(h *[8]uint32, p []byte, kernel bool) {
	if kernel {
		sha256BlockSHANI(h, p)
	} else {
		sha256BlockGo(h, p)
	}
}

// sha256K are the SHA-256 round constants (FIPS 180-4 §4.2.2).
var sha256K = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// sha256BlockGo compresses the len(p)/64 whole blocks of p into h
// (FIPS 180-4 §6.2.2). It is the reference the SHA-NI kernel is tested
// against.
func sha256BlockGo(h *[8]uint32, p []byte) {
	var w [64]uint32
	for ; len(p) >= 64; p = p[64:] {
		for i := 0; i < 16; i++ {
			w[i] = binary.BigEndian.Uint32(p[4*i:])
		}
		for i := 16; i < 64; i++ {
			s0 := rotr(w[i-15], 7) ^ rotr(w[i-15], 18) ^ w[i-15]>>3
			s1 := rotr(w[i-2], 17) ^ rotr(w[i-2], 19) ^ w[i-2]>>10
			w[i] = w[i-16] + s0 + w[i-7] + s1
		}
		a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
		for i := 0; i < 64; i++ {
			t1 := hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (e&f ^ ^e&g) + sha256K[i] + w[i]
			t2 := (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + (a&b ^ a&c ^ b&c)
			hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
		}
		h[0] += a
		h[1] += b
		h[2] += c
		h[3] += d
		h[4] += e
		h[5] += f
		h[6] += g
		h[7] += hh
	}
}

func rotr(x uint32, n uint) uint32 { return x>>n | x<<(32-n) }
