package engine

import "encoding/binary"

// isPlain reports whether every byte of b is printable ASCII (0x20 through
// 0x7E) other than the backslash. In a plain JSON text a string is exactly
// the bytes up to the next quote: no escape, control character or UTF-8
// sequence can occur, so validating it is structural only.
func isPlain(b []byte) bool {
	n := len(b)
	if n < 8 {
		tail := [8]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '} // plain filler
		copy(tail[:], b)
		return plain8(binary.LittleEndian.Uint64(tail[:])) == 0
	}
	// The last eight bytes, which may overlap the loop's last word, then the
	// rest in words, two at a time, with one test at the end.
	bad := plain8(binary.LittleEndian.Uint64(b[n-8:]))
	i := 0
	for ; i+16 <= n; i += 16 {
		w := b[i : i+16 : i+16]
		bad |= plain8(binary.LittleEndian.Uint64(w[:8])) | plain8(binary.LittleEndian.Uint64(w[8:]))
	}
	if i+8 <= n {
		bad |= plain8(binary.LittleEndian.Uint64(b[i : i+8 : i+8]))
	}
	return bad == 0
}

// plain8 flags, with the high bit of each byte, exactly the bytes of x that
// are not plain: below 0x20, 0x7F and above, or a backslash. Every sum
// stays within its byte, so no flag leaks into a neighbour.
func plain8(x uint64) uint64 {
	const ones, highs, low7 = 0x0101010101010101, 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	y := x & low7
	high := x | (y + ones)          // b >= 0x7F
	ctl := ^(y + ones*(0x80-0x20))  // b&0x7F < 0x20
	bs := ^((y ^ ones*'\\') + low7) // b&0x7F == '\\'
	return (high | ctl | bs) & highs
}
