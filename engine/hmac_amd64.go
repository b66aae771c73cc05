//go:build amd64 && !purego

package engine

// useSHANI selects the SHA-NI compression kernel for HS256: the CPU has the
// SHA extensions, SSSE3 and SSE4.1. -tags purego builds hmac_other.go
// instead.
var useSHANI = hasSHANI()

// hasSHANI reports whether CPUID lists SHA (leaf 7 EBX bit 29), SSSE3
// (leaf 1 ECX bit 9) and SSE4.1 (leaf 1 ECX bit 19).
func hasSHANI() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	const ssse3, sse41 = 1 << 9, 1 << 19
	if _, _, ecx, _ := cpuid(1, 0); ecx&(ssse3|sse41) != ssse3|sse41 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<29) != 0
}

// sha256BlockSHANI compresses the len(p)/64 whole blocks of p into h with
// the SHA-NI instructions. The CPU must have them (useSHANI).
//
//go:noescape
func sha256BlockSHANI(h *[8]uint32, p []byte)
