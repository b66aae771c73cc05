package bench

import (
	"os"
	"testing"
	"time"
)

// TestProcCPU checks the /proc reader against this process's own CPU time,
// which getrusage reports: the two agree to the 10 ms resolution of /proc
// (plus the time spent between the two reads).
func TestProcCPU(t *testing.T) {
	// Burn some CPU so that the figures are not both zero.
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	sink = x
	proc, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self := processCPU()
	if proc <= 0 || proc > self || self-proc > int64(50*time.Millisecond) {
		t.Errorf("/proc says %v of CPU, getrusage %v: want /proc at most 50ms behind", time.Duration(proc), time.Duration(self))
	}
	if _, err := procCPU(-1); err == nil {
		t.Error("procCPU(-1) must fail")
	}
}

var sink int
