package cputime

import (
	"runtime"
	"testing"
)

// TestCPUTimeAdvances checks, where the times can be read, that a busy loop
// makes both clocks move forward and that the thread's never exceeds the
// process's.
func TestCPUTimeAdvances(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, p0 := Thread(), Process()
	if t0 < 0 || p0 < 0 {
		if runtime.GOOS == "linux" {
			t.Fatalf("Thread() = %d, Process() = %d on linux", t0, p0)
		}
		return
	}
	x := uint64(1)
	for Thread()-t0 < 20e6 { // 20 ms of this thread's CPU
		for i := 0; i < 1e5; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	t1, p1 := Thread(), Process()
	if t1-t0 < 20e6 || p1-p0 < t1-t0 {
		t.Fatalf("thread %d ns, process %d ns (x=%d)", t1-t0, p1-p0, x)
	}
}
