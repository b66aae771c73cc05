package ticks

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestZeroClockReadsMonotonicNanoseconds(t *testing.T) {
	var c Clock
	if c.IsCounter() || c.PerSecond() != 1e9 {
		t.Fatalf("zero Clock: counter %v, %v ticks/s; want the monotonic clock in ns", c.IsCounter(), c.PerSecond())
	}
	for _, d := range []time.Duration{0, 1, 100, time.Microsecond, time.Hour} {
		if c.Ticks(d) != int64(d) || c.Duration(int64(d)) != d {
			t.Errorf("%v: %d ticks, back %v", d, c.Ticks(d), c.Duration(int64(d)))
		}
	}
	prev := c.Now()
	for range 1000 {
		now := c.Now()
		if now < prev {
			t.Fatalf("monotonic readings went back: %d after %d", now, prev)
		}
		prev = now
	}
}

// hasInvariantCounter reports whether Linux says this machine's
// time-stamp counter is invariant (the flags it sets from the same CPUID
// bit), false when it cannot tell.
func hasInvariantCounter() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	s := string(b)
	return strings.Contains(s, " constant_tsc") && strings.Contains(s, " nonstop_tsc")
}

// TestCounterUsedWhereAvailable fails if a machine with an invariant
// counter (as Linux reports it) is timed with the clock in an amd64 build
// that reads counters: the fast path must not be lost silently.
func TestCounterUsedWhereAvailable(t *testing.T) {
	c := Counter()
	want := runtime.GOARCH == "amd64" && !purego && hasInvariantCounter()
	if c.IsCounter() != want {
		t.Fatalf("Counter().IsCounter() = %v, want %v (amd64 %v, purego %v, invariant counter %v)",
			c.IsCounter(), want, runtime.GOARCH == "amd64", purego, hasInvariantCounter())
	}
	if Counter() != c {
		t.Error("a second call measured another rate")
	}
	if c.IsCounter() && (c.PerSecond() < minRate || c.PerSecond() > maxRate) {
		t.Errorf("rate %v ticks/s", c.PerSecond())
	}
}

// TestCounterAgreesWithClock times one interval with the counter and with
// the monotonic clock, each end read as a tight pair: the two durations
// agree to 1%, however long the interval really was.
func TestCounterAgreesWithClock(t *testing.T) {
	c := Counter()
	if !c.IsCounter() {
		t.Log("no usable counter here: Counter is the monotonic clock")
	}
	for attempt := 0; ; attempt++ {
		c0, t0, ok0 := pairOf(c)
		time.Sleep(20 * time.Millisecond)
		c1, t1, ok1 := pairOf(c)
		if !ok0 || !ok1 {
			if attempt == 10 {
				t.Fatal("no tight pair of readings in 10 attempts")
			}
			continue
		}
		byCounter, byClock := c.Duration(c1-c0), time.Duration(t1-t0)
		if diff := byCounter - byClock; diff < -byClock/100 || diff > byClock/100 {
			t.Fatalf("the counter timed %v where the clock timed %v", byCounter, byClock)
		}
		return
	}
}

// pairOf reads c between two monotonic clock readings at most 10 µs apart.
func pairOf(c Clock) (ticks, ns int64, ok bool) {
	a := int64(time.Since(epoch))
	ticks = c.Now()
	b := int64(time.Since(epoch))
	return ticks, a + (b-a)/2, b-a <= int64(10*time.Microsecond)
}

func TestTicksRoundTrip(t *testing.T) {
	for _, c := range []Clock{{}, {perSecond: 2.1e9}, {perSecond: 2.999_876_5e9}, {perSecond: 1e8}} {
		for _, d := range []time.Duration{0, 1, 99, 100, 101, 250, time.Microsecond, 5 * time.Second, time.Hour} {
			if got := c.Duration(c.Ticks(d)); got-d > 5 || d-got > 5 {
				t.Errorf("%v ticks/s: %v → %d ticks → %v", c.PerSecond(), d, c.Ticks(d), got)
			}
		}
	}
}

func TestRateOfRefusesBrokenCounters(t *testing.T) {
	const ms = int64(time.Millisecond)
	for _, tc := range []struct {
		name           string
		c0, t0, c1, t1 int64
		want           float64
	}{
		{"2.1 GHz", 1000, 0, 1000 + 2_100_000, ms, 2.1e9},
		{"100 MHz", 0, 0, 100_000, ms, 1e8},
		{"standing still", 5000, 0, 5000, ms, 0},
		{"going back", 5000, 0, 4000, ms, 0},
		{"no time passed", 0, ms, 1000, ms, 0},
		{"too slow", 0, 0, 99_000, ms, 0},
		{"too fast", 0, 0, 100_000_001, ms, 0},
	} {
		if got := rateOf(tc.c0, tc.t0, tc.c1, tc.t1); got != tc.want {
			t.Errorf("%s: %v ticks/s, want %v", tc.name, got, tc.want)
		}
	}
}

func BenchmarkNow(b *testing.B) {
	for _, bc := range []struct {
		name string
		c    Clock
	}{{"clock", Clock{}}, {"counter", Counter()}} {
		b.Run(bc.name, func(b *testing.B) {
			var sink int64
			for b.Loop() {
				start := bc.c.Now()
				sink += bc.c.Now() - start
			}
			_ = sink
		})
	}
}
