package engine

import "unsafe"

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
// encoding decodes to a given byte string. ok is false on any of these.
func b64Decode(dst, src []byte) (out []byte, ok bool) {
	n := b64DecodedLen(len(src))
	if n < 0 {
		return dst, false
	}
	start := len(dst)
	if cap(dst)-start < n {
		return dst, false // callers size scratch for the token; never grow here
	}
	out = dst[:start+n]
	d := out[start:]
	var bad byte
	i, j := 0, 0
	for ; i+4 <= len(src); i, j = i+4, j+3 {
		a, b, c, e := b64Table[src[i]], b64Table[src[i+1]], b64Table[src[i+2]], b64Table[src[i+3]]
		bad |= a | b | c | e
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(e)
		d[j], d[j+1], d[j+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch len(src) - i {
	case 2:
		a, b := b64Table[src[i]], b64Table[src[i+1]]
		bad |= a | b
		if b&0x0f != 0 { // 4 unused bits must be zero
			return dst, false
		}
		d[j] = a<<2 | b>>4
	case 3:
		a, b, c := b64Table[src[i]], b64Table[src[i+1]], b64Table[src[i+2]]
		bad |= a | b | c
		if c&0x03 != 0 { // 2 unused bits must be zero
			return dst, false
		}
		d[j], d[j+1] = a<<2|b>>4, b<<4|c>>2
	}
	// invalidB64 is 0xff, and valid values are < 64, so any invalid byte sets bit 7.
	if bad&0x80 != 0 {
		return dst, false
	}
	return out, true
}

// s2b returns the bytes of s without copying. The result must not be modified.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// b2s returns b as a string without copying. b must not be modified while the
// string is in use.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
