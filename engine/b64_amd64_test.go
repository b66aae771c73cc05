//go:build amd64 && !purego

package engine

import (
	"bytes"
	"os"
	"runtime"
	"testing"
)

// TestB64KernelSelected checks the CPUID test against what Linux reports:
// the kernel must run wherever the CPU has AVX2, or the differential tests
// compare the pure-Go code with itself.
func TestB64KernelSelected(t *testing.T) {
	if useAVX2 != hasAVX2() {
		t.Fatalf("useAVX2 = %v, hasAVX2() = %v", useAVX2, hasAVX2())
	}
	if runtime.GOOS != "linux" {
		return
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	if linux := bytes.Contains(info, []byte(" avx2")); useAVX2 != linux {
		t.Fatalf("useAVX2 = %v, but /proc/cpuinfo lists avx2: %v", useAVX2, linux)
	}
}

// TestB64BlocksAVX2Short checks that the kernel refuses, rather than reads
// before, a source shorter than its one block.
func TestB64BlocksAVX2Short(t *testing.T) {
	if !useAVX2 {
		t.Log("no AVX2 on this CPU: the kernel cannot run")
		return
	}
	dst := make([]byte, 64)
	for n := 0; n < 32; n += 4 {
		if invalid, notPlain := b64BlocksAVX2(dst, bytes.Repeat([]byte("QUFB"), n/4)); !invalid || !notPlain {
			t.Errorf("%d characters: invalid = %v, notPlain = %v; want both true", n, invalid, notPlain)
		}
	}
	if invalid, notPlain := b64BlocksAVX2(dst, bytes.Repeat([]byte("QUFB"), 8)); invalid || notPlain || string(dst[:24]) != "AAAAAAAAAAAAAAAAAAAAAAAA" {
		t.Errorf("32 characters: invalid = %v, notPlain = %v, decoded %q", invalid, notPlain, dst[:24])
	}
}
