package clocktest_test

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/clocktest"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := clocktest.New(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v", c.Now())
	}
	c.Advance(90 * time.Second)
	if got := c.Now().Sub(start); got != 90*time.Second {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(start.Add(-time.Hour))
	if got := c.Now().Sub(start); got != -time.Hour {
		t.Fatalf("after Set: %v", got)
	}
}
