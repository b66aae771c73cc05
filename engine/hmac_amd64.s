//go:build amd64 && !purego

#include "textflag.h"
// sha256BlockSHANI: FIPS 180-4 SHA-256 compression with the SHA-NI
// instructions. State rows: X1 = ABEF, X2 = CDGH (as SHA256RNDS2 wants
// them); message quads rotate through X3-X6; X0 is the implicit W+K
// operand; X8 is the byte-swap mask; X9, X10 save the state of a block.
DATA shaK<>+0(SB)/4, $0x428a2f98
DATA shaK<>+4(SB)/4, $0x71374491
DATA shaK<>+8(SB)/4, $0xb5c0fbcf
DATA shaK<>+12(SB)/4, $0xe9b5dba5
DATA shaK<>+16(SB)/4, $0x3956c25b
DATA shaK<>+20(SB)/4, $0x59f111f1
DATA shaK<>+24(SB)/4, $0x923f82a4
DATA shaK<>+28(SB)/4, $0xab1c5ed5
DATA shaK<>+32(SB)/4, $0xd807aa98
DATA shaK<>+36(SB)/4, $0x12835b01
DATA shaK<>+40(SB)/4, $0x243185be
DATA shaK<>+44(SB)/4, $0x550c7dc3
DATA shaK<>+48(SB)/4, $0x72be5d74
DATA shaK<>+52(SB)/4, $0x80deb1fe
DATA shaK<>+56(SB)/4, $0x9bdc06a7
DATA shaK<>+60(SB)/4, $0xc19bf174
DATA shaK<>+64(SB)/4, $0xe49b69c1
DATA shaK<>+68(SB)/4, $0xefbe4786
DATA shaK<>+72(SB)/4, $0x0fc19dc6
DATA shaK<>+76(SB)/4, $0x240ca1cc
DATA shaK<>+80(SB)/4, $0x2de92c6f
DATA shaK<>+84(SB)/4, $0x4a7484aa
DATA shaK<>+88(SB)/4, $0x5cb0a9dc
DATA shaK<>+92(SB)/4, $0x76f988da
DATA shaK<>+96(SB)/4, $0x983e5152
DATA shaK<>+100(SB)/4, $0xa831c66d
DATA shaK<>+104(SB)/4, $0xb00327c8
DATA shaK<>+108(SB)/4, $0xbf597fc7
DATA shaK<>+112(SB)/4, $0xc6e00bf3
DATA shaK<>+116(SB)/4, $0xd5a79147
DATA shaK<>+120(SB)/4, $0x06ca6351
DATA shaK<>+124(SB)/4, $0x14292967
DATA shaK<>+128(SB)/4, $0x27b70a85
DATA shaK<>+132(SB)/4, $0x2e1b2138
DATA shaK<>+136(SB)/4, $0x4d2c6dfc
DATA shaK<>+140(SB)/4, $0x53380d13
DATA shaK<>+144(SB)/4, $0x650a7354
DATA shaK<>+148(SB)/4, $0x766a0abb
DATA shaK<>+152(SB)/4, $0x81c2c92e
DATA shaK<>+156(SB)/4, $0x92722c85
DATA shaK<>+160(SB)/4, $0xa2bfe8a1
DATA shaK<>+164(SB)/4, $0xa81a664b
DATA shaK<>+168(SB)/4, $0xc24b8b70
DATA shaK<>+172(SB)/4, $0xc76c51a3
DATA shaK<>+176(SB)/4, $0xd192e819
DATA shaK<>+180(SB)/4, $0xd6990624
DATA shaK<>+184(SB)/4, $0xf40e3585
DATA shaK<>+188(SB)/4, $0x106aa070
DATA shaK<>+192(SB)/4, $0x19a4c116
DATA shaK<>+196(SB)/4, $0x1e376c08
DATA shaK<>+200(SB)/4, $0x2748774c
DATA shaK<>+204(SB)/4, $0x34b0bcb5
DATA shaK<>+208(SB)/4, $0x391c0cb3
DATA shaK<>+212(SB)/4, $0x4ed8aa4a
DATA shaK<>+216(SB)/4, $0x5b9cca4f
DATA shaK<>+220(SB)/4, $0x682e6ff3
DATA shaK<>+224(SB)/4, $0x748f82ee
DATA shaK<>+228(SB)/4, $0x78a5636f
DATA shaK<>+232(SB)/4, $0x84c87814
DATA shaK<>+236(SB)/4, $0x8cc70208
DATA shaK<>+240(SB)/4, $0x90befffa
DATA shaK<>+244(SB)/4, $0xa4506ceb
DATA shaK<>+248(SB)/4, $0xbef9a3f7
DATA shaK<>+252(SB)/4, $0xc67178f2
GLOBL shaK<>(SB), RODATA|NOPTR, $256

DATA shaSwap<>+0(SB)/8, $0x0405060700010203
DATA shaSwap<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL shaSwap<>(SB), RODATA|NOPTR, $16

// ROUNDS4 runs four rounds with the message quad m and constants at koff.
#define ROUNDS4(m, koff) \
	MOVO m, X0; \
	PADDD koff(BX), X0; \
	SHA256RNDS2 X0, X1, X2; \
	PSHUFD $0x0E, X0, X0; \
	SHA256RNDS2 X0, X2, X1

// SCHED turns m0 (W[i-16..i-13]) into W[i..i+3] given m1 = W[i-12..],
// m2 = W[i-8..], m3 = W[i-4..].
#define SCHED(m0, m1, m2, m3) \
	SHA256MSG1 m1, m0; \
	MOVO m3, X7; \
	PALIGNR $4, m2, X7; \
	PADDD X7, m0; \
	SHA256MSG2 m3, m0

// func sha256BlockSHANI(h *[8]uint32, p []byte)
TEXT ·sha256BlockSHANI(SB), NOSPLIT, $0-32
	MOVQ h+0(FP), DI
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), DX
	SHRQ $6, DX
	JZ   done
	LEAQ shaK<>(SB), BX
	MOVOU shaSwap<>(SB), X8

	MOVOU 0(DI), X1
	MOVOU 16(DI), X2
	PSHUFD $0xB1, X1, X1
	PSHUFD $0x1B, X2, X2
	MOVO X1, X7
	PALIGNR $8, X2, X1
	PBLENDW $0xF0, X7, X2

loop:
	MOVO X1, X9
	MOVO X2, X10
	MOVOU 0(SI), X3
	PSHUFB X8, X3
	MOVOU 16(SI), X4
	PSHUFB X8, X4
	MOVOU 32(SI), X5
	PSHUFB X8, X5
	MOVOU 48(SI), X6
	PSHUFB X8, X6
	ROUNDS4(X3, 0)
	ROUNDS4(X4, 16)
	ROUNDS4(X5, 32)
	ROUNDS4(X6, 48)
	SCHED(X3, X4, X5, X6)
	ROUNDS4(X3, 64)
	SCHED(X4, X5, X6, X3)
	ROUNDS4(X4, 80)
	SCHED(X5, X6, X3, X4)
	ROUNDS4(X5, 96)
	SCHED(X6, X3, X4, X5)
	ROUNDS4(X6, 112)
	SCHED(X3, X4, X5, X6)
	ROUNDS4(X3, 128)
	SCHED(X4, X5, X6, X3)
	ROUNDS4(X4, 144)
	SCHED(X5, X6, X3, X4)
	ROUNDS4(X5, 160)
	SCHED(X6, X3, X4, X5)
	ROUNDS4(X6, 176)
	SCHED(X3, X4, X5, X6)
	ROUNDS4(X3, 192)
	SCHED(X4, X5, X6, X3)
	ROUNDS4(X4, 208)
	SCHED(X5, X6, X3, X4)
	ROUNDS4(X5, 224)
	SCHED(X6, X3, X4, X5)
	ROUNDS4(X6, 240)
	PADDD X9, X1
	PADDD X10, X2
	ADDQ $64, SI
	DECQ DX
	JNZ  loop

	PSHUFD $0x1B, X1, X1
	PSHUFD $0xB1, X2, X2
	MOVO X1, X7
	PBLENDW $0xF0, X2, X1
	PALIGNR $8, X7, X2
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)

done:
	RET
