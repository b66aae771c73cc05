// Package ticks times short intervals on the request path cheaply.
//
// Reading the system clock costs a vDSO call: 20–25 ns on an idle core and
// two to three times that under load, when the clock's shared data and the
// stack switch of the call miss the cache. Timing every verification takes
// two readings. On amd64 with an invariant time-stamp counter (one that
// ticks at a constant rate whatever the core's frequency or sleep state,
// CPUID 8000_0007h EDX bit 8) a Clock reads the counter instead (RDTSC,
// about 8 ns), at a rate measured once per process against the monotonic
// clock. Elsewhere, or built with -tags purego, it reads the monotonic clock
// and a tick is a nanosecond.
package ticks

import (
	"sync"
	"time"
)

// Clock reads ticks: of the time-stamp counter (see Counter) or, the zero
// Clock, nanoseconds of the monotonic clock. Differences of two readings of
// one Clock are durations in its ticks; readings of different clocks, or
// taken on cores whose counters disagree, are not comparable, so a
// difference below zero is to be read as zero.
type Clock struct {
	perSecond float64 // ticks per second of the counter; 0: the monotonic clock
}

// epoch is the origin of the monotonic clock's readings.
var epoch = time.Now()

// Now returns the current reading.
func (c Clock) Now() int64 {
	if c.perSecond != 0 {
		return counter()
	}
	return int64(time.Since(epoch))
}

// PerSecond returns the clock's rate in ticks per second.
func (c Clock) PerSecond() float64 {
	if c.perSecond != 0 {
		return c.perSecond
	}
	return float64(time.Second)
}

// IsCounter reports whether c reads the time-stamp counter.
func (c Clock) IsCounter() bool { return c.perSecond != 0 }

// Ticks converts a duration to ticks of c, rounding to the nearest.
func (c Clock) Ticks(d time.Duration) int64 {
	if c.perSecond == 0 {
		return int64(d)
	}
	return int64(float64(d)*c.perSecond/float64(time.Second) + 0.5)
}

// Duration converts ticks of c to a duration, rounding to the nearest
// nanosecond.
func (c Clock) Duration(t int64) time.Duration {
	if c.perSecond == 0 {
		return time.Duration(t)
	}
	return time.Duration(float64(t)*float64(time.Second)/c.perSecond + 0.5)
}

// Counter returns the clock of the time-stamp counter when this machine has
// a usable one, else the monotonic clock (the zero Clock). The first call
// measures the counter's rate, which takes calibrationTime; later calls
// return the same Clock at once.
func Counter() Clock {
	counterOnce.Do(func() { counterClock = Clock{perSecond: calibrate(calibrationTime)} })
	return counterClock
}

var (
	counterOnce  sync.Once
	counterClock Clock
)

// calibrationTime is how long Counter measures the counter against the
// monotonic clock. Each end is read as a pair of readings less than
// maxPairGap apart, so the rate is off by less than 2·maxPairGap over
// calibrationTime: 0.01%.
const (
	calibrationTime = 2 * time.Millisecond
	maxPairGap      = 100 * time.Nanosecond
)

// calibrate returns the counter's rate in ticks per second measured over
// about d, or 0 when the counter is not usable: absent or not invariant,
// not increasing, at a rate no CPU has, or when no tight pair of readings
// could be taken (a machine too busy to time anything on).
func calibrate(d time.Duration) float64 {
	if !counterInvariant() {
		return 0
	}
	c0, t0, ok := pair()
	if !ok {
		return 0
	}
	time.Sleep(d)
	c1, t1, ok := pair()
	if !ok {
		return 0
	}
	return rateOf(c0, t0, c1, t1)
}

// rateOf returns the counter's rate between two pairs of readings (counter,
// monotonic nanoseconds), or 0 when it is not a rate a working counter
// has: not increasing, or out of [minRate, maxRate].
func rateOf(c0, t0, c1, t1 int64) float64 {
	if c1 <= c0 || t1 <= t0 {
		return 0
	}
	rate := float64(c1-c0) / (float64(t1-t0) / float64(time.Second))
	if rate < minRate || rate > maxRate {
		return 0
	}
	return rate
}

// The rates a time-stamp counter can have: from 100 MHz to 100 GHz.
const (
	minRate = 1e8
	maxRate = 1e11
)

// pair reads the counter and the monotonic clock (nanoseconds since epoch)
// at one instant: the counter halfway between two clock readings at most
// maxPairGap apart. It tries a few times and reports whether it got one.
func pair() (c, t int64, ok bool) {
	for range 100 {
		a := int64(time.Since(epoch))
		c = counter()
		b := int64(time.Since(epoch))
		if b-a <= int64(maxPairGap) {
			return c, a + (b-a)/2, true
		}
	}
	return 0, 0, false
}
