//go:build amd64 && !purego

package engine

// useAVX2 selects the AVX2 kernel: the CPU has AVX2 and the operating system
// saves the YMM registers. -tags purego builds b64_other.go instead.
var useAVX2 = hasAVX2()

// b64Decode decodes with the AVX2 kernel when the CPU has it and src holds
// at least one 32-character block, else with b64DecodeGo. See b64.go for
// the contract.
func b64Decode(dst, src []byte) (out []byte, ok bool) {
	out, _, ok = b64DecodeAVX2(dst, src) // one call: b64Decode inlines
	return out, ok
}

// b64DecodePlain is b64Decode that also reports whether the result is plain
// (see b64.go): the kernel classifies the bytes it decodes as it decodes
// them, and plainASCII the rest.
func b64DecodePlain(dst, src []byte) (out []byte, plain, ok bool) {
	start := len(dst)
	var kernelPlain bool
	if out, kernelPlain, ok = b64DecodeAVX2(dst, src); !ok {
		return dst, false, false
	}
	if !useAVX2 || len(src) < 32 {
		return out, plainASCII(out[start:]), true
	}
	return out, kernelPlain && plainASCII(out[start+len(src)/4*3:]), true
}

// b64DecodeAVX2 is b64Decode. Where useAVX2 is set and src has at least 32
// characters, the AVX2 kernel decodes all of src but the last 2 or 3
// characters that do not make a group of 4, which b64DecodeEnd decodes, and
// kernelPlain reports whether the bytes the kernel decoded (all but the
// last 1 or 2) are plain. Otherwise it is b64DecodeGo, and kernelPlain is
// false.
func b64DecodeAVX2(dst, src []byte) (out []byte, kernelPlain, ok bool) {
	if !useAVX2 || len(src) < 32 {
		out, ok = b64DecodeGo(dst, src)
		return out, false, ok
	}
	n := b64DecodedLen(len(src))
	start := len(dst)
	if n < 0 || cap(dst)-start < n+2 {
		return dst, false, false
	}
	d := dst[start : start+n+2]
	groups := len(src) &^ 3
	invalid, notPlain := b64BlocksAVX2(d, src[:groups])
	if invalid || groups < len(src) && !b64DecodeEnd(d[groups/4*3:], src[groups:]) {
		return dst, false, false
	}
	return dst[:start+n], !notPlain, true
}

// b64BlocksAVX2 decodes src, whose length must be a multiple of 4 and at
// least 32, into dst: 24 bytes for each 32 characters, then, for the last
// 4 to 28 characters, one more 32-character block that ends with src and
// overlaps the one before it (its bytes there are the same). dst must hold
// len(src)/4*3 bytes. invalid reports a character outside the base64url
// alphabet; notPlain a decoded byte that is not plain (see b64.go). A block
// is stored with 32 bytes while len(dst) leaves room for them, so bytes of
// dst past the decoded ones may be overwritten, never bytes past len(dst).
// A src shorter than 32 characters is reported invalid.
//
//go:noescape
func b64BlocksAVX2(dst, src []byte) (invalid, notPlain bool)

// hasAVX2 reports whether the CPU has AVX2 and the operating system has
// enabled the XMM and YMM register state (CPUID.1:ECX.OSXSAVE and AVX,
// XGETBV(0) bits 1 and 2, CPUID.(7,0):EBX.AVX2).
func hasAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	const osxsave, avx = 1 << 27, 1 << 28
	if _, _, ecx, _ := cpuid(1, 0); ecx&(osxsave|avx) != osxsave|avx {
		return false
	}
	const xmmYMMState = 1<<1 | 1<<2
	if xgetbv0()&xmmYMMState != xmmYMMState {
		return false
	}
	const avx2 = 1 << 5
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&avx2 != 0
}

// cpuid executes CPUID with EAX = leaf and ECX = sub.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns the low word of extended control register 0 (XCR0); call
// it only when CPUID reports OSXSAVE.
func xgetbv0() (eax uint32)
