//go:build amd64 && !purego

#include "textflag.h"

// b64BlocksAVX2 decodes strict base64url 32 characters at a time into 24
// bytes, validating and classifying every byte in the same pass. The method
// is the vector range lookup described by Wojciech Muła and Daniel Lemire
// ("Faster Base64 Encoding and Decoding Using AVX2 Instructions", 2018),
// adapted here to the URL-safe alphabet:
//
// Validate. Each character c is split into its high nibble h = c>>4 and its
// low nibble l = c&15. VPSHUFB looks up a class bit for h (b64Hi) and the
// set of classes for which l is not allowed (b64Lo):
//
//	class  high nibble       allowed low nibbles
//	0x01   0, 1, 8..15       none
//	0x02   2                 D           '-'
//	0x04   3                 0..9        '0'..'9'
//	0x08   4, 6              1..F        'A'..'O', 'a'..'o'
//	0x10   5                 0..A, F     'P'..'Z', '_'
//	0x20   7                 0..A        'p'..'z'
//
// c is in the alphabet exactly when b64Lo[l] & b64Hi[h] is zero; the ANDs
// are ORed into Y14 and tested once, after the last block.
//
// Translate. The 6-bit value is c plus an offset that depends on h alone
// (b64Off: '-' +17, digits +4, upper case -65, lower case -71), except for
// '_', whose lookup index is moved from 5 to 13 (offset -32).
//
// Pack. VPMADDUBSW joins pairs of values into 12-bit words (a*64 + b),
// VPMADDWD pairs of words into 24-bit dwords, VPSHUFB puts each dword's
// three bytes in big-endian order at the start of its 128-bit lane (12
// bytes a lane) and VPERMD moves the two lanes' 12 bytes together. The 8
// bytes after the 24 repeat the first ones, so all 32 are decoded bytes.
//
// Classify. A decoded byte b is plain when 0x20 <= b <= 0x7E and b != '\'.
// b+0x60 maps that range onto -128..-34 (signed), and a backslash is forced
// to -1: the running signed maximum (Y10) stays at most -34 exactly when
// every byte was plain.
//
// A block is stored with one 32-byte store while dst has room for it, and
// with a 16- and an 8-byte store (exactly its 24 bytes) when it does not.
// When 4 to 28 characters are left after the whole blocks, the last block
// is the 32 characters that end src: it overlaps the one before, whose bytes
// it decodes again to the same values, and needs no scalar loop.

// VPSHUFB tables, the 16 entries repeated in both 128-bit lanes.
DATA b64Lo<>+0(SB)/8, $0x030303030303030b
DATA b64Lo<>+8(SB)/8, $0x2737353737070303
DATA b64Lo<>+16(SB)/8, $0x030303030303030b
DATA b64Lo<>+24(SB)/8, $0x2737353737070303
GLOBL b64Lo<>(SB), RODATA|NOPTR, $32

DATA b64Hi<>+0(SB)/8, $0x2008100804020101
DATA b64Hi<>+8(SB)/8, $0x0101010101010101
DATA b64Hi<>+16(SB)/8, $0x2008100804020101
DATA b64Hi<>+24(SB)/8, $0x0101010101010101
GLOBL b64Hi<>(SB), RODATA|NOPTR, $32

DATA b64Off<>+0(SB)/8, $0xb9b9bfbf04110000
DATA b64Off<>+8(SB)/8, $0x0000e00000000000
DATA b64Off<>+16(SB)/8, $0xb9b9bfbf04110000
DATA b64Off<>+24(SB)/8, $0x0000e00000000000
GLOBL b64Off<>(SB), RODATA|NOPTR, $32

// b64Pack takes bytes 2, 1, 0 of each dword; 0x80 zeroes the last 4 bytes.
DATA b64Pack<>+0(SB)/8, $0x090a040506000102
DATA b64Pack<>+8(SB)/8, $0x808080800c0d0e08
DATA b64Pack<>+16(SB)/8, $0x090a040506000102
DATA b64Pack<>+24(SB)/8, $0x808080800c0d0e08
GLOBL b64Pack<>(SB), RODATA|NOPTR, $32

// b64Lanes is the VPERMD order: dwords 0, 1, 2 and 4, 5, 6, then 0, 1 again.
DATA b64Lanes<>+0(SB)/8, $0x0000000100000000
DATA b64Lanes<>+8(SB)/8, $0x0000000400000002
DATA b64Lanes<>+16(SB)/8, $0x0000000600000005
DATA b64Lanes<>+24(SB)/8, $0x0000000100000000
GLOBL b64Lanes<>(SB), RODATA|NOPTR, $32

// b64Join1 multiplies the first value of each pair by 64 (words 0x0140).
DATA b64Join1<>+0(SB)/8, $0x0140014001400140
DATA b64Join1<>+8(SB)/8, $0x0140014001400140
DATA b64Join1<>+16(SB)/8, $0x0140014001400140
DATA b64Join1<>+24(SB)/8, $0x0140014001400140
GLOBL b64Join1<>(SB), RODATA|NOPTR, $32

// b64Join2 multiplies the first word of each pair by 4096 (dwords 0x00011000).
DATA b64Join2<>+0(SB)/8, $0x0001100000011000
DATA b64Join2<>+8(SB)/8, $0x0001100000011000
DATA b64Join2<>+16(SB)/8, $0x0001100000011000
DATA b64Join2<>+24(SB)/8, $0x0001100000011000
GLOBL b64Join2<>(SB), RODATA|NOPTR, $32

DATA b64Nibble<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA b64Nibble<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA b64Nibble<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA b64Nibble<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL b64Nibble<>(SB), RODATA|NOPTR, $32

DATA b64Under<>+0(SB)/8, $0x5f5f5f5f5f5f5f5f
DATA b64Under<>+8(SB)/8, $0x5f5f5f5f5f5f5f5f
DATA b64Under<>+16(SB)/8, $0x5f5f5f5f5f5f5f5f
DATA b64Under<>+24(SB)/8, $0x5f5f5f5f5f5f5f5f
GLOBL b64Under<>(SB), RODATA|NOPTR, $32

DATA b64Eight<>+0(SB)/8, $0x0808080808080808
DATA b64Eight<>+8(SB)/8, $0x0808080808080808
DATA b64Eight<>+16(SB)/8, $0x0808080808080808
DATA b64Eight<>+24(SB)/8, $0x0808080808080808
GLOBL b64Eight<>(SB), RODATA|NOPTR, $32

DATA b64Backslash<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA b64Backslash<>+8(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA b64Backslash<>+16(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA b64Backslash<>+24(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL b64Backslash<>(SB), RODATA|NOPTR, $32

DATA b64Plus60<>+0(SB)/8, $0x6060606060606060
DATA b64Plus60<>+8(SB)/8, $0x6060606060606060
DATA b64Plus60<>+16(SB)/8, $0x6060606060606060
DATA b64Plus60<>+24(SB)/8, $0x6060606060606060
GLOBL b64Plus60<>(SB), RODATA|NOPTR, $32

// b64PlainMax is -34, the largest value a plain byte maps to.
DATA b64PlainMax<>+0(SB)/8, $0xdededededededede
DATA b64PlainMax<>+8(SB)/8, $0xdededededededede
DATA b64PlainMax<>+16(SB)/8, $0xdededededededede
DATA b64PlainMax<>+24(SB)/8, $0xdededededededede
GLOBL b64PlainMax<>(SB), RODATA|NOPTR, $32

// func b64BlocksAVX2(dst, src []byte) (invalid, notPlain bool)
//
// Registers: SI, CX source pointer and characters left; DI, DX destination
// pointer and room left. Y6 nibble mask, Y7 b64Lo, Y8 b64Hi, Y9 b64Off,
// Y13 b64Lanes; Y14 error accumulator, Y10 plain maximum.
TEXT ·b64BlocksAVX2(SB), NOSPLIT, $0-50
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), DX
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	CMPQ CX, $32
	JB   short

	VMOVDQU b64Nibble<>(SB), Y6
	VMOVDQU b64Lo<>(SB), Y7
	VMOVDQU b64Hi<>(SB), Y8
	VMOVDQU b64Off<>(SB), Y9
	VMOVDQU b64Lanes<>(SB), Y13
	VPXOR   Y14, Y14, Y14
	VMOVDQU b64PlainMax<>(SB), Y10

loop:
	// Validate.
	VMOVDQU (SI), Y0
	VPSRLD  $4, Y0, Y1
	VPAND   Y6, Y1, Y1 // high nibbles
	VPAND   Y6, Y0, Y2 // low nibbles
	VPSHUFB Y1, Y8, Y3
	VPSHUFB Y2, Y7, Y2
	VPAND   Y2, Y3, Y3
	VPOR    Y3, Y14, Y14

	// Translate.
	VPCMPEQB b64Under<>(SB), Y0, Y4
	VPAND    b64Eight<>(SB), Y4, Y4
	VPADDB   Y4, Y1, Y1
	VPSHUFB  Y1, Y9, Y1
	VPADDB   Y1, Y0, Y0

	// Pack.
	VPMADDUBSW b64Join1<>(SB), Y0, Y0
	VPMADDWD   b64Join2<>(SB), Y0, Y0
	VPSHUFB    b64Pack<>(SB), Y0, Y0
	VPERMD     Y0, Y13, Y0

	// Classify.
	VPCMPEQB b64Backslash<>(SB), Y0, Y1
	VPADDB   b64Plus60<>(SB), Y0, Y2
	VPOR     Y1, Y2, Y2
	VPMAXSB  Y2, Y10, Y10

	CMPQ DX, $32
	JB   exact
	VMOVDQU Y0, (DI)
	JMP  next

exact:
	VMOVDQU      X0, (DI)
	VEXTRACTI128 $1, Y0, X1
	VMOVQ        X1, 16(DI)

next:
	ADDQ $32, SI
	SUBQ $32, CX
	ADDQ $24, DI
	SUBQ $24, DX
	CMPQ CX, $32
	JAE  loop
	TESTQ CX, CX
	JZ   done

	// 4 to 28 characters are left: step back 32-CX characters (a multiple
	// of 4) and their 3/4 as many bytes, and decode one more block.
	MOVQ $32, AX
	SUBQ CX, AX
	SUBQ AX, SI
	SHRQ $2, AX
	LEAQ (AX)(AX*2), AX
	SUBQ AX, DI
	ADDQ AX, DX
	MOVQ $32, CX
	JMP  loop

short:
	MOVB $1, invalid+48(FP)
	MOVB $1, notPlain+49(FP)
	RET

done:
	VPTEST    Y14, Y14
	SETNE     invalid+48(FP)
	VPCMPGTB  b64PlainMax<>(SB), Y10, Y10
	VPMOVMSKB Y10, AX
	TESTL     AX, AX
	SETNE     notPlain+49(FP)
	VZEROUPPER
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET
