package ticks_test

import (
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/internal/ticks"
)

// Time a short piece of work: two readings and a conversion, the same
// whether the clock reads the time-stamp counter or the monotonic clock.
func ExampleClock() {
	c := ticks.Counter()
	start := c.Now()
	time.Sleep(time.Millisecond)
	took := c.Duration(c.Now() - start)
	fmt.Println(took >= 900*time.Microsecond)
	// Output: true
}
