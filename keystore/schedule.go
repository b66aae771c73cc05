package keystore

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff after failures.
const (
	backoffBase = time.Second
	// minRefreshGap keeps a misconfigured tiny RefreshMin from spinning.
	minRefreshGap = time.Second
)

// cacheLifetime reads how long a response stays fresh: Cache-Control
// max-age (minus Age), else Expires (relative to Date, else now); no-store
// and no-cache mean "refresh as soon as allowed". ok is false when the
// response says nothing, so the issuer's RefreshDefault applies.
func cacheLifetime(h http.Header, now time.Time) (d time.Duration, ok bool) {
	for _, line := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0, true
			case "max-age":
				secs, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
				if err != nil || secs < 0 {
					continue
				}
				if secs > int64(100*365*24*time.Hour/time.Second) {
					secs = int64(100 * 365 * 24 * time.Hour / time.Second)
				}
				d, ok = time.Duration(secs)*time.Second, true
			}
		}
	}
	if !ok {
		exp := h.Get("Expires")
		if exp == "" {
			return 0, false
		}
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0, true // an invalid Expires means already expired (RFC 9111 §5.3)
		}
		base := now
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			base = date
		}
		d, ok = t.Sub(base), true
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 && age < 1<<32 {
		d -= time.Duration(age) * time.Second
	}
	return max(d, 0), ok
}

// refreshInterval is the time until the next refresh after a successful
// fetch: the response's lifetime clamped to [RefreshMin, RefreshMax], or
// RefreshDefault when it gives none.
func refreshInterval(cfg *Issuer, h http.Header, now time.Time) time.Duration {
	d, ok := cacheLifetime(h, now)
	if !ok {
		return cfg.RefreshDefault
	}
	return min(max(d, cfg.RefreshMin), cfg.RefreshMax)
}

// jitter moves d earlier by up to a tenth, at random, so that gateways
// started together do not refresh together; never below minRefreshGap.
func jitter(d time.Duration) time.Duration {
	if spread := int64(d / 10); spread > 0 {
		d -= time.Duration(rand.Int64N(spread + 1))
	}
	return max(d, minRefreshGap)
}

// backoff is the wait after the n-th consecutive failure (n >= 1): one
// second, doubling, capped at limit.
func backoff(n int, limit time.Duration) time.Duration {
	d := backoffBase
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// kidBackoff is the wait after the n-th consecutive failed unknown-kid
// refetch: about a second, growing, and always shorter than the cooldown
// (a failed refetch must not lock a rotated key out for a whole cooldown).
func kidBackoff(n int, cooldown time.Duration) time.Duration {
	return backoff(n, max(cooldown/2, time.Millisecond))
}

// refreshBackoff is the wait before the next background attempt after the
// n-th consecutive failure: capped at RefreshMin (but at least a second).
func refreshBackoff(n int, cfg *Issuer) time.Duration {
	return backoff(n, max(cfg.RefreshMin, minRefreshGap))
}
