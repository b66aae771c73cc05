package engine_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// TestCacheMemoryWithinBudget floods a cache with a small byte budget with
// distinct valid tokens carrying large claims, each given a large
// attachment, as the server does with identity headers. The heap the cache
// keeps must stay within its budget, and must match what the cache counts:
// every byte an entry keeps is counted.
func TestCacheMemoryWithinBudget(t *testing.T) {
	const (
		budget     = 8 << 20
		attachSize = 16 << 10
		tokens     = 1500
		slack      = 1 << 20 // the Token's scratch, the header cache, the test's own garbage
	)
	f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.CacheEntries, c.CacheBytes = 512, budget })
	c := f.v.Cache()
	var res engine.Token
	big := strings.Repeat("group-", 1000) // 6 kB of claims
	claimsOf := func(i int) map[string]any {
		claims := accessClaims()
		claims["jti"] = fmt.Sprintf("flood-%d", i)
		claims["groups"] = big
		claims["aud"] = []string{testAudience, "a", "b", "c", "d"}
		return claims
	}
	// Warm the Token's scratch and the header cache before measuring.
	if err := f.v.VerifyString(f.token(t, claimsOf(-1)), &res); err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	for i := range tokens {
		if err := f.v.VerifyString(f.token(t, claimsOf(i)), &res); err != nil {
			t.Fatal(err)
		}
		f.v.Attach(&res, make([]byte, attachSize))
	}
	kept := heapInUse() - before
	s := c.Stats()
	runtime.KeepAlive(f)
	if s.Evictions == 0 || s.Bytes < budget/2 {
		t.Fatalf("the flood did not fill the cache: %+v", s)
	}
	if walked := engine.CacheEntryBytes(c); s.Bytes != walked {
		t.Errorf("Stats().Bytes = %d, but the entries' sizes add up to %d", s.Bytes, walked)
	}
	if s.Bytes > budget {
		t.Errorf("cache counts %d bytes, over its budget of %d", s.Bytes, budget)
	}
	if kept > budget+slack {
		t.Errorf("the cache keeps %d bytes of heap, over its budget of %d (+%d); it counts %d", kept, budget, slack, s.Bytes)
	}
	if diff := kept - s.Bytes; diff > slack || diff < -slack {
		t.Errorf("the cache keeps %d bytes of heap but counts %d", kept, s.Bytes)
	}
	t.Logf("heap kept %d, counted %d, budget %d, %d entries", kept, s.Bytes, budget, s.Entries)
}

// heapInUse returns the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func TestMemoryLimitFor(t *testing.T) {
	for _, c := range []struct{ cache, want int64 }{
		{0, engine.MemoryLimitHeadroom},
		{-1, engine.MemoryLimitHeadroom},
		{engine.DefaultCacheBytes, 2*engine.DefaultCacheBytes + engine.MemoryLimitHeadroom},
		{8 << 20, 16<<20 + engine.MemoryLimitHeadroom},
	} {
		if got := engine.MemoryLimitFor(c.cache); got != c.want {
			t.Errorf("MemoryLimitFor(%d) = %d, want %d", c.cache, got, c.want)
		}
	}
}

// TestCacheAttachmentCounted checks that an attachment counts against the
// byte budget: Stats grows by at least its capacity, and one that cannot fit
// the set's budget is refused rather than kept uncounted.
func TestCacheAttachmentCounted(t *testing.T) {
	f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.CacheEntries, c.CacheBytes = 8, 64<<10 })
	c := f.v.Cache()
	var res engine.Token
	tok := []byte(f.token(t, accessClaims()))
	if err := f.v.Verify(tok, &res); err != nil {
		t.Fatal(err)
	}
	before := c.Stats().Bytes
	f.v.Attach(&res, make([]byte, 4<<10))
	if got := c.Stats().Bytes - before; got < 4<<10 {
		t.Fatalf("a 4 KiB attachment added %d bytes to the cache's count", got)
	}
	if got := engine.CacheEntryBytes(c); got != c.Stats().Bytes {
		t.Fatalf("entries add up to %d, Stats reports %d", got, c.Stats().Bytes)
	}

	other := accessClaims()
	other["jti"] = "too-big-to-attach"
	tok2 := []byte(f.token(t, other))
	if err := f.v.Verify(tok2, &res); err != nil {
		t.Fatal(err)
	}
	before = c.Stats().Bytes
	f.v.Attach(&res, make([]byte, engine.CacheSetBytes(c)))
	if err := f.v.Verify(tok2, &res); err != nil || !res.FromCache() {
		t.Fatalf("the entry must stay cached: err=%v cached=%v", err, res.FromCache())
	}
	if res.Attachment() != nil || c.Stats().Bytes != before {
		t.Fatalf("an attachment over the budget was kept: %d bytes, count %d -> %d", len(res.Attachment()), before, c.Stats().Bytes)
	}
}
