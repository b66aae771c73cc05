//go:build !purego

package ticks

// counter returns the time-stamp counter (RDTSC).
func counter() int64

// cpuid returns the registers of CPUID leaf eax.
func cpuid(eax uint32) (a, b, c, d uint32)

// counterInvariant reports whether the CPU's time-stamp counter is
// invariant: CPUID 8000_0007h EDX bit 8.
func counterInvariant() bool {
	if max, _, _, _ := cpuid(0x8000_0000); max < 0x8000_0007 {
		return false
	}
	_, _, _, d := cpuid(0x8000_0007)
	return d&(1<<8) != 0
}
