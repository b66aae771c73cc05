// Package clocktest provides a settable engine.Clock, so that tests drive
// expiry, cooldowns and key rotation without sleeping.
package clocktest

import (
	"sync/atomic"
	"time"
)

// Clock is a clock that moves only when told to. It is safe for concurrent use.
type Clock struct{ nanos atomic.Int64 }

// New returns a Clock reading t.
func New(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.nanos.Load()) }

// Advance moves the clock forward by d (backward if d is negative).
func (c *Clock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.nanos.Store(t.UnixNano()) }
