//go:build amd64 && !purego

package engine

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestSHANIKernelSelected checks the CPUID detection against the kernel's
// own view of the CPU: /proc/cpuinfo's sha_ni flag on Linux.
func TestSHANIKernelSelected(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/cpuinfo is Linux's")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	want := false
	for _, line := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(line, "flags") {
			f := " " + line + " "
			want = strings.Contains(f, " sha_ni ") && strings.Contains(f, " ssse3 ") && strings.Contains(f, " sse4_1 ")
			break
		}
	}
	if useSHANI != want {
		t.Fatalf("useSHANI = %v, /proc/cpuinfo says %v", useSHANI, want)
	}
}
