package engine

import (
	"encoding/binary"
	"unsafe"
)

// invalidB64 marks a byte outside the base64url alphabet in b64Table.
const invalidB64 = 0xff

// b64Table maps a byte to its base64url value, or invalidB64.
var b64Table = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = invalidB64
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// b64DecodedLen returns the decoded size of n base64url characters without
// padding, or -1 when no strict encoding has that length (n%4 == 1).
func b64DecodedLen(n int) int {
	if n%4 == 1 {
		return -1
	}
	return n/4*3 + (n%4)*3/4
}

// b64Decode decodes strict, unpadded base64url (RFC 7515 §2) from src,
// appending to dst. It rejects padding, whitespace, CR/LF and every byte
// outside the URL-safe alphabet, an impossible length, and non-canonical
// encodings whose unused trailing bits are not zero — so exactly one
// encoding decodes to a given byte string. ok is false on any of these, and
// then out is dst unchanged. dst must have room for the result plus 2 bytes
// of slack: it never grows, and nothing past that room is written.
//
// b64Decode and b64DecodePlain are defined per build: b64_amd64.go runs an
// AVX2 kernel where the CPU has it, b64_other.go the pure-Go code below.
//
// b64DecodePlain is b64Decode that also reports whether the decoded bytes
// are plain: all printable ASCII (0x20..0x7E) with no backslash, so that a
// JSON scanner can skip escape and UTF-8 handling. plain is false when ok is.

// b64DecodeGo is the pure-Go b64Decode: the reference the AVX2 kernel is
// tested against, the fallback on other machines and with -tags purego, and
// the decoder of inputs shorter than the kernel's 32-character block.
func b64DecodeGo(dst, src []byte) (out []byte, ok bool) {
	n := b64DecodedLen(len(src))
	if n < 0 {
		return dst, false
	}
	start := len(dst)
	if cap(dst)-start < n+2 {
		return dst, false // callers size scratch for the token; never grow here
	}
	d := dst[start : start+n+2]
	var bad uint32
	i, j := 0, 0
	// Eight characters make six bytes; the 8-byte store writes two bytes of
	// slack that the next round (or the caller's next append) overwrites.
	for ; i+8 <= len(src); i, j = i+8, j+6 {
		s := src[i : i+8 : i+8] // one bounds check for the eight loads
		x := b64Shift[0][s[0]] | b64Shift[1][s[1]] | b64Shift[2][s[2]] | b64Shift[3][s[3]]
		y := b64Shift[0][s[4]] | b64Shift[1][s[5]] | b64Shift[2][s[6]] | b64Shift[3][s[7]]
		bad |= x | y
		binary.BigEndian.PutUint64(d[j:j+8:j+8], uint64(x)<<40|uint64(y)<<16)
	}
	for ; i+4 <= len(src); i, j = i+4, j+3 {
		x := b64Shift[0][src[i]] | b64Shift[1][src[i+1]] | b64Shift[2][src[i+2]] | b64Shift[3][src[i+3]]
		bad |= x
		d[j], d[j+1], d[j+2] = byte(x>>16), byte(x>>8), byte(x)
	}
	if bad&b64Invalid != 0 || i < len(src) && !b64DecodeEnd(d[j:], src[i:]) {
		return dst, false
	}
	return dst[:start+n], true
}

// b64DecodeEnd decodes the last 2 or 3 characters of an encoding, src, into
// d, which must hold 2 bytes (the second is slack after 2 characters). It
// reports whether they are in the alphabet and leave the unused low bits (4
// or 2) zero, as a canonical encoding does.
func b64DecodeEnd(d, src []byte) bool {
	x := b64Shift[0][src[0]] | b64Shift[1][src[1]]
	unused := uint32(0xffff)
	if len(src) > 2 {
		x |= b64Shift[2][src[2]]
		unused = 0xff
	}
	d[0], d[1] = byte(x>>16), byte(x>>8)
	return x&(b64Invalid|unused) == 0
}

// b64DecodePlainGo is the pure-Go b64DecodePlain.
func b64DecodePlainGo(dst, src []byte) (out []byte, plain, ok bool) {
	start := len(dst)
	if out, ok = b64DecodeGo(dst, src); !ok {
		return dst, false, false
	}
	return out, plainASCII(out[start:]), true
}

// Byte-lane constants for the SWAR tests in plainASCII.
const (
	lanes1    = 0x0101010101010101 // 0x01 in every byte
	lanesHigh = 0x8080808080808080 // the top bit of every byte
)

// plainASCII reports whether every byte of b is printable ASCII (0x20..0x7E)
// other than '\'. It tests eight bytes at a time (see plainBad), and the
// last 0 to 7 one at a time: a word assembled from them in memory would
// make its load wait for the byte stores (no store forwarding), longer than
// the bytes take to test — and b64DecodePlain's kernel leaves it 1 or 2.
func plainASCII(b []byte) bool {
	var bad uint64
	for len(b) >= 8 {
		bad |= plainBad(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if bad&lanesHigh != 0 {
		return false
	}
	for _, c := range b {
		if c-0x20 > 0x7e-0x20 || c == '\\' {
			return false
		}
	}
	return true
}

// plainBad returns x with the top bit of some byte lane set when a byte of
// x is not plain (see plainASCII); only the top bits are meaningful. A lane
// is flagged by its own top bit (>= 0x80); by subtracting 0x20, which
// borrows below 0x20; by adding 1, which carries into the top bit from 0x7F;
// and by subtracting 1 from it XOR '\', which borrows from a backslash.
// Lanes of 0x80 and more are flagged already, so what the arithmetic does
// to them does not matter, and a carry or borrow crosses into the next lane
// only out of a lane that is itself flagged: a flag in any lane means that
// some byte is not plain.
func plainBad(x uint64) uint64 {
	bsl := x ^ ('\\' * lanes1)
	return x | (x - 0x20*lanes1) | (x + lanes1) | (bsl - lanes1)
}

// b64Invalid marks, in b64Shift, a byte outside the alphabet; valid entries
// use only the low 24 bits.
const b64Invalid = 1 << 31

// b64Shift[k][c] is the 6-bit value of character c placed at position k of
// a 4-character group (bits 23..0), or b64Invalid.
var b64Shift = func() (t [4][256]uint32) {
	for c := range 256 {
		v := uint32(b64Table[c])
		for k := range 4 {
			if v == invalidB64 {
				t[k][c] = b64Invalid
			} else {
				t[k][c] = v << (18 - 6*k)
			}
		}
	}
	return t
}()

// s2b returns the bytes of s without copying. The result must not be modified.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// b2s returns b as a string without copying. b must not be modified while the
// string is in use.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
