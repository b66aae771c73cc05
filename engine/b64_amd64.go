//go:build amd64 && !purego

package engine

// useAVX2 selects the AVX2 kernel: the CPU has AVX2 and the operating system
// saves the YMM registers. -tags purego builds b64_other.go instead.
var useAVX2 = hasAVX2()

// b64Decode decodes with the AVX2 kernel when the CPU has it and src holds
// at least one 32-character block, else with b64DecodeGo. See b64.go for
// the contract.
func b64Decode(dst, src []byte) (out []byte, ok bool) {
	if useAVX2 && len(src) >= 32 {
		out, _, ok = b64DecodeAVX2(dst, src)
		return out, ok
	}
	return b64DecodeGo(dst, src)
}

// b64DecodePlain is b64Decode that also reports whether the result is plain
// (see b64.go): the kernel classifies its blocks as it decodes them, and
// plainASCII the bytes of the tail.
func b64DecodePlain(dst, src []byte) (out []byte, plain, ok bool) {
	if useAVX2 && len(src) >= 32 {
		return b64DecodePlainAVX2(dst, src)
	}
	return b64DecodePlainGo(dst, src)
}

// b64DecodePlainAVX2 is b64DecodePlain by way of b64DecodeAVX2. The caller
// must know that the CPU has AVX2.
func b64DecodePlainAVX2(dst, src []byte) (out []byte, plain, ok bool) {
	start := len(dst)
	var blocksPlain bool
	if out, blocksPlain, ok = b64DecodeAVX2(dst, src); !ok {
		return dst, false, false
	}
	tail := start + len(src)/32*24
	return out, blocksPlain && plainASCII(out[tail:]), true
}

// b64DecodeAVX2 is b64Decode run by the AVX2 kernel over every whole
// 32-character block of src and by b64DecodeGo over the rest. blocksPlain
// reports whether the bytes decoded from the blocks are plain; the tail's
// are not looked at. The caller must know that the CPU has AVX2.
func b64DecodeAVX2(dst, src []byte) (out []byte, blocksPlain, ok bool) {
	n := b64DecodedLen(len(src))
	start := len(dst)
	if n < 0 || cap(dst)-start < n+2 {
		return dst, false, false
	}
	// The kernel stores 32 bytes a block while its room allows and exactly
	// the block's 24 bytes after that, so it writes nothing past n+2.
	invalid, notPlain := b64BlocksAVX2(dst[start:start+n+2], src)
	if invalid {
		return dst, false, false
	}
	blocks := len(src) / 32
	if out, ok = b64DecodeGo(dst[:start+blocks*24], src[blocks*32:]); !ok {
		return dst, false, false
	}
	return out, !notPlain, true
}

// b64BlocksAVX2 decodes the len(src)/32 whole 32-character blocks of src
// into dst, 24 bytes each; dst must hold that many. invalid reports a
// character outside the base64url alphabet in those blocks, notPlain a
// decoded byte that is not plain (see b64.go). It stores 32 bytes a block
// while len(dst) leaves room for them, so bytes of dst past the decoded
// ones may be overwritten, never bytes past len(dst).
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
