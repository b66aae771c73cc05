package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// TestVerifyAtIgnoresClock: VerifyAt judges the time limits at the time
// given, not at the configured clock's, on the full path and on a cache
// hit alike; Verify keeps judging at the clock's.
func TestVerifyAtIgnoresClock(t *testing.T) {
	for _, cached := range []bool{false, true} {
		f := newFixture(t, engine.HS256, func(c *engine.Config) {
			c.CacheEntries = -1
			if cached {
				c.CacheEntries = 0 // the default size
			}
		})
		raw := []byte(f.token(t, accessClaims())) // nbf epoch-1m, exp epoch+1h; the clock says epoch
		var tok engine.Token
		if err := f.v.Verify(raw, &tok); err != nil {
			t.Fatalf("cached=%v: Verify at the clock's time: %v", cached, err)
		}
		if got := tok.FromCache(); got {
			t.Fatalf("cached=%v: the first verification came from the cache", cached)
		}
		for _, c := range []struct {
			at   time.Time
			want error
		}{
			{epoch.Add(30 * time.Minute), nil},
			{epoch.Add(2 * time.Hour), engine.ErrExpired},
			{epoch.Add(-time.Hour), engine.ErrNotYetValid},
		} {
			err := f.v.VerifyAt(raw, c.at, &tok)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("cached=%v: VerifyAt(%v): %v, want %v", cached, c.at.Sub(epoch), err, c.want)
			}
			if err == nil && tok.FromCache() != cached {
				t.Errorf("cached=%v: VerifyAt(%v) from the cache: %v", cached, c.at.Sub(epoch), tok.FromCache())
			}
		}
		if err := f.v.Verify(raw, &tok); err != nil {
			t.Errorf("cached=%v: Verify after VerifyAt: %v", cached, err)
		}
	}
}
