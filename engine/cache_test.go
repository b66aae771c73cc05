package engine_test

import (
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/jwtgate/jwtgate/engine"
)

func cachedFixture(t testing.TB, alg engine.Alg, mod func(*engine.Config)) *fixture {
	return newFixture(t, alg, func(c *engine.Config) {
		c.CacheEntries = 0 // default size: on
		if mod != nil {
			mod(c)
		}
	})
}

func TestCacheHitSkipsCrypto(t *testing.T) {
	for _, alg := range []engine.Alg{engine.RS256, engine.ES256, engine.EdDSA, engine.HS256} {
		t.Run(alg.String(), func(t *testing.T) {
			f := cachedFixture(t, alg, nil)
			tok := []byte(f.token(t, accessClaims()))
			var res engine.Token
			if err := f.v.Verify(tok, &res); err != nil || res.FromCache() {
				t.Fatalf("first verify: err=%v fromCache=%v", err, res.FromCache())
			}
			if err := f.v.Verify(tok, &res); err != nil || !res.FromCache() {
				t.Fatalf("second verify: err=%v fromCache=%v", err, res.FromCache())
			}
			if string(res.Claims.Subject) != "user-1234567890" || !res.Claims.HasScope("read:orders") ||
				!res.Claims.HasAudience(testAudience) || res.Key() != f.key || res.Header.Alg != alg {
				t.Fatalf("cached result incomplete: %+v", res.Claims)
			}
			for range 100 {
				if err := f.v.Verify(tok, &res); err != nil {
					t.Fatal(err)
				}
			}
			if s := f.v.Cache().Stats(); s.Hits < 100 || s.Inserts != 1 || s.Entries != 1 {
				t.Fatalf("stats = %+v", s)
			}
		})
	}
}

func TestCacheHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	for _, alg := range engine.Algorithms() {
		f := cachedFixture(t, alg, nil)
		tok := []byte(f.token(t, accessClaims()))
		var res engine.Token
		if err := f.v.Verify(tok, &res); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := f.v.Verify(tok, &res); err != nil || !res.FromCache() {
				t.Fatal("cache miss", err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: cache hit allocates %.1f times, want 0", alg, allocs)
		}
	}
}

func TestCacheRechecksTimeOnHit(t *testing.T) {
	f := cachedFixture(t, engine.ES256, nil)
	claims := accessClaims()
	claims["exp"] = epoch.Add(2 * time.Minute).Unix()
	tok := []byte(f.token(t, claims))
	var res engine.Token
	if err := f.v.Verify(tok, &res); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2*time.Minute + engine.DefaultLeeway - time.Second)
	if err := f.v.Verify(tok, &res); err != nil || !res.FromCache() {
		t.Fatalf("within leeway: err=%v cached=%v", err, res.FromCache())
	}
	f.clock.Advance(time.Second)
	if err := f.v.Verify(tok, &res); !errors.Is(err, engine.ErrExpired) {
		t.Fatalf("expired while cached: got %v, want ErrExpired", err)
	}
}

func TestCacheRechecksMaxAgeOnHit(t *testing.T) {
	f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.MaxAge = 10 * time.Minute })
	tok := []byte(f.token(t, accessClaims())) // iat = epoch - 1m
	var res engine.Token
	if err := f.v.Verify(tok, &res); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	if err := f.v.Verify(tok, &res); !errors.Is(err, engine.ErrTooOld) {
		t.Fatalf("got %v, want ErrTooOld", err)
	}
}

func TestCacheDropsTokensOfRetiredKey(t *testing.T) {
	f := cachedFixture(t, engine.RS256, nil)
	tok := []byte(f.token(t, accessClaims()))
	var res engine.Token
	if err := f.v.Verify(tok, &res); err != nil {
		t.Fatal(err)
	}
	// The issuer drops the key: the store stops returning it and retires it.
	f.keys().keys = nil
	f.key.Retire()
	if err := f.v.Verify(tok, &res); !errors.Is(err, engine.ErrUnknownKid) {
		t.Fatalf("token of a retired key: got %v, want ErrUnknownKid", err)
	}
	if s := f.v.Cache().Stats(); s.Invalidations != 1 || s.Entries != 0 {
		t.Fatalf("stats after retirement = %+v", s)
	}
}

func TestCacheNoFalseHitOnHashCollision(t *testing.T) {
	f := cachedFixture(t, engine.HS256, nil)
	engine.SetCacheHash(f.v.Cache(), func([]byte) uint64 { return 42 })
	a := []byte(f.token(t, accessClaims()))
	other := accessClaims()
	other["sub"] = "someone-else"
	b := []byte(f.token(t, other))
	var res engine.Token
	if err := f.v.Verify(a, &res); err != nil {
		t.Fatal(err)
	}
	if err := f.v.Verify(b, &res); err != nil || res.FromCache() {
		t.Fatalf("colliding token: err=%v fromCache=%v (must be verified, not served from a's entry)", err, res.FromCache())
	}
	if string(res.Claims.Subject) != "someone-else" {
		t.Fatalf("sub = %q: served another token's claims", res.Claims.Subject)
	}
	// A forged token with the same hash is never served from the cache.
	forged := append([]byte(nil), a...)
	forged[len(forged)-2] ^= 1
	if err := f.v.Verify(forged, &res); err == nil {
		t.Fatal("forged token with a colliding hash accepted")
	}
	for _, tok := range [][]byte{a, b} {
		if err := f.v.Verify(tok, &res); err != nil || !res.FromCache() {
			t.Fatalf("both colliding tokens should now hit: err=%v cached=%v", err, res.FromCache())
		}
	}
}

func TestCachePolicyIsPartOfIdentity(t *testing.T) {
	lax := cachedFixture(t, engine.ES256, nil)
	strict, err := engine.New(engine.Config{
		Keys: lax.keys(), Issuers: []string{testIssuer}, Audiences: []string{testAudience},
		RequiredScopes: []string{"admin"}, Clock: lax.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := []byte(lax.token(t, accessClaims()))
	var res engine.Token
	if err := lax.v.Verify(tok, &res); err != nil {
		t.Fatal(err)
	}
	if err := lax.v.Verify(tok, &res); err != nil || !res.FromCache() {
		t.Fatal("lax verifier should hit its cache")
	}
	if err := strict.Verify(tok, &res); !errors.Is(err, engine.ErrScope) {
		t.Fatalf("strict verifier: got %v, want ErrScope", err)
	}
}

func TestCacheOnlyStoresValidTokens(t *testing.T) {
	f := cachedFixture(t, engine.HS256, nil)
	bad := []byte(f.token(t, accessClaims()))
	bad[len(bad)-3] ^= 1
	var res engine.Token
	for range 3 {
		if err := f.v.Verify(bad, &res); err == nil {
			t.Fatal("bad token accepted")
		}
	}
	expired := accessClaims()
	expired["exp"] = epoch.Add(-time.Hour).Unix()
	if err := f.v.Verify([]byte(f.token(t, expired)), &res); !errors.Is(err, engine.ErrExpired) {
		t.Fatalf("got %v", err)
	}
	if s := f.v.Cache().Stats(); s.Entries != 0 || s.Inserts != 0 {
		t.Fatalf("invalid tokens occupy the cache: %+v", s)
	}
}

func TestCacheBoundedUnderFlood(t *testing.T) {
	const entries, maxBytes = 256, 64 << 10
	f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.CacheEntries, c.CacheBytes = entries, maxBytes })
	c := f.v.Cache()
	var res engine.Token
	for i := range 5000 {
		claims := accessClaims()
		claims["jti"] = fmt.Sprintf("flood-%d", i)
		if err := f.v.Verify([]byte(f.token(t, claims)), &res); err != nil {
			t.Fatal(err)
		}
	}
	s := c.Stats()
	if s.Entries > engine.CacheCapacity(c) || s.Bytes > maxBytes {
		t.Fatalf("cache over its bounds: %+v (capacity %d entries, %d bytes)", s, engine.CacheCapacity(c), maxBytes)
	}
	if s.Evictions == 0 || s.Inserts != 5000 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestCacheBurstDoesNotFlushHotTokens(t *testing.T) {
	f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.CacheEntries = 512 })
	var res engine.Token
	hot := make([][]byte, 64)
	for i := range hot {
		claims := accessClaims()
		claims["jti"] = fmt.Sprintf("hot-%d", i)
		hot[i] = []byte(f.token(t, claims))
		for range 2 { // verified, then hit once: no longer on probation
			if err := f.v.Verify(hot[i], &res); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A burst of 20,000 new valid tokens, with the hot set still in use
	// at a much lower rate than the burst.
	for i := range 20000 {
		claims := accessClaims()
		claims["jti"] = fmt.Sprintf("burst-%d", i)
		if err := f.v.Verify([]byte(f.token(t, claims)), &res); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := f.v.Verify(hot[(i/100)%len(hot)], &res); err != nil {
				t.Fatal(err)
			}
		}
	}
	hits := 0
	for _, tok := range hot {
		if err := f.v.Verify(tok, &res); err != nil {
			t.Fatal(err)
		}
		if res.FromCache() {
			hits++
		}
	}
	if hits < len(hot)*9/10 {
		t.Fatalf("only %d of %d hot tokens survived the burst", hits, len(hot))
	}
}

func TestCacheAttachment(t *testing.T) {
	f := cachedFixture(t, engine.EdDSA, nil)
	tok := []byte(f.token(t, accessClaims()))
	var res engine.Token
	if err := f.v.Verify(tok, &res); err != nil {
		t.Fatal(err)
	}
	if res.Attachment() != nil {
		t.Fatal("fresh entry has an attachment")
	}
	f.v.Attach(&res, []byte("X-Auth-Subject: user"))
	f.v.Attach(&res, []byte("second attach is ignored"))
	if err := f.v.Verify(tok, &res); err != nil || string(res.Attachment()) != "X-Auth-Subject: user" {
		t.Fatalf("attachment = %q, err=%v", res.Attachment(), err)
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.CacheEntries = 64 })
	toks := make([][]byte, 200)
	for i := range toks {
		claims := accessClaims()
		claims["jti"] = fmt.Sprintf("c-%d", i)
		toks[i] = []byte(f.token(t, claims))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res engine.Token
			for i := range 2000 {
				tok := toks[(i*7+g*13)%len(toks)]
				if err := f.v.Verify(tok, &res); err != nil {
					t.Error(err)
					return
				}
				if !res.Claims.HasAudience(testAudience) {
					t.Error("lost claims")
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCacheReplacement justifies the replacement policy: on a skewed
// workload (Zipf-distributed returning users) mixed with a stream of tokens
// seen once (new logins, scanners with valid tokens), it reports the hit
// ratio of the S3-FIFO-like policy beside plain FIFO in the same run.
func BenchmarkCacheReplacement(b *testing.B) {
	f := cachedFixture(b, engine.HS256, nil)
	const hot, once = 4000, 20000
	tokens := make([][]byte, hot+once)
	for i := range tokens {
		claims := accessClaims()
		claims["jti"] = fmt.Sprintf("t-%d", i)
		tokens[i] = []byte(f.token(b, claims))
	}
	for _, policy := range []string{"s3fifo", "fifo"} {
		b.Run("policy="+policy, func(b *testing.B) {
			v, err := engine.New(engine.Config{Keys: f.keys(), Issuers: []string{testIssuer},
				Audiences: []string{testAudience}, Clock: f.clock, CacheEntries: 1024})
			if err != nil {
				b.Fatal(err)
			}
			if policy == "fifo" {
				engine.SetCacheFIFO(v.Cache())
			}
			zipf := rand.NewZipf(rand.New(rand.NewSource(1)), 1.1, 1, hot-1)
			var res engine.Token
			next := 0
			for i := 0; b.Loop(); i++ {
				tok := tokens[zipf.Uint64()]
				if i%3 == 0 { // one request in three carries a token seen once
					tok = tokens[hot+next%once]
					next++
				}
				if err := v.Verify(tok, &res); err != nil {
					b.Fatal(err)
				}
			}
			s := v.Cache().Stats()
			b.ReportMetric(100*float64(s.Hits)/float64(s.Hits+s.Misses), "hit%")
		})
	}
}

// TestCacheInsertAllocs pins the cost of storing a new valid token: one
// allocation holding the entry, the token and its decoded strings.
func TestCacheInsertAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	f := cachedFixture(t, engine.EdDSA, nil)
	toks := make([][]byte, 200)
	for i := range toks {
		claims := accessClaims()
		claims["jti"] = fmt.Sprintf("insert-%d", i)
		toks[i] = []byte(f.token(t, claims))
	}
	var res engine.Token
	if err := f.v.Verify(toks[0], &res); err != nil { // warms the header cache and res
		t.Fatal(err)
	}
	i := 1
	allocs := testing.AllocsPerRun(100, func() {
		if err := f.v.Verify(toks[i], &res); err != nil || res.FromCache() {
			t.Fatal("want a fresh verify", err)
		}
		i++
	})
	if allocs != 1 {
		t.Fatalf("storing a verified token allocates %.1f times, want 1", allocs)
	}
}

// TestCacheSetIsOneLinePair checks the layout a lookup relies on: a set is
// 128 bytes (a line of tags, a line of pointers) and a table of 2,048
// entries or more starts on a 128-byte boundary, so no set straddles more
// lines than that.
func TestCacheSetIsOneLinePair(t *testing.T) {
	for _, entries := range []int{2048, 4096, engine.DefaultCacheEntries, 1 << 20} {
		size, addr := engine.CacheSetLayout(engine.NewCache(entries, 0))
		if size != 128 || addr%128 != 0 {
			t.Errorf("%d entries: sets of %d bytes at %#x; want 128 bytes, 128-byte aligned", entries, size, addr)
		}
	}
}

// TestCacheHitComparesWholeToken forces every token onto one index hash, so
// that only the comparison of the tokens tells them apart: a token that
// differs from a cached one in a single byte — its first, one in the middle,
// its last — or only in length must not be answered from that entry.
func TestCacheHitComparesWholeToken(t *testing.T) {
	f := cachedFixture(t, engine.RS256, nil)
	engine.SetCacheHash(f.v.Cache(), func([]byte) uint64 { return 42 })
	tok := []byte(f.token(t, accessClaims()))
	var res engine.Token
	for range 2 {
		if err := f.v.Verify(tok, &res); err != nil {
			t.Fatal(err)
		}
	}
	if !res.FromCache() {
		t.Fatal("the token is not cached")
	}
	variants := map[string][]byte{
		"shorter": tok[:len(tok)-1],
		"longer":  append(append([]byte(nil), tok...), 'A'),
	}
	for _, at := range []int{0, 1, len(tok) / 3, len(tok) / 2, len(tok) - 65, len(tok) - 64, len(tok) - 2, len(tok) - 1} {
		v := append([]byte(nil), tok...)
		v[at] ^= 0x01 // stays in the base64url alphabet: the parse alone does not refuse it
		variants[fmt.Sprintf("byte %d of %d", at, len(tok))] = v
	}
	for name, v := range variants {
		if err := f.v.Verify(v, &res); err == nil || res.FromCache() {
			t.Errorf("%s: a different token was answered from the cache (err=%v)", name, err)
		}
	}
	if err := f.v.Verify(tok, &res); err != nil || !res.FromCache() {
		t.Fatalf("the cached token no longer hits: err=%v cached=%v", err, res.FromCache())
	}
}

// TestCacheHitMatchesVerify checks that a hit fills the Token exactly as
// the verification that cached it did, for tokens of every shape an entry
// encodes: escaped strings, no audience, one, several, "scp" as an array,
// a header with kid, typ and cty shared from the header cache, and one too
// long for that cache, whose strings the entry holds itself.
func TestCacheHitMatchesVerify(t *testing.T) {
	f := cachedFixture(t, engine.ES256, func(c *engine.Config) { c.Audiences, c.AnyAudience = nil, true })
	shapes := map[string]map[string]any{}
	shapes["plain"] = accessClaims()
	esc := accessClaims()
	esc["sub"] = "us\"er\\\u00e9\u2028/\U0001F600"
	esc["iss"] = testIssuer
	esc["jti"] = "a\tb"
	shapes["escaped"] = esc
	none := accessClaims()
	delete(none, "aud")
	delete(none, "jti")
	delete(none, "nbf")
	shapes["no aud, jti, nbf"] = none
	many := accessClaims()
	many["aud"] = []string{"a", testAudience, "c\u00e9", ""}
	shapes["four auds"] = many
	scp := accessClaims()
	delete(scp, "scope")
	scp["scp"] = []string{"read", "write\u00e9"}
	shapes["scp array"] = scp
	for name, claims := range shapes {
		for _, hdr := range []map[string]any{
			{"alg": "ES256", "kid": f.key.Kid(), "typ": "at+jwt", "cty": "json"},
			{"alg": "ES256", "kid": f.key.Kid(), "typ": "at+jwt", "cty": "json"}, // again: from the header cache
			{"alg": "ES256", "kid": f.key.Kid()},
			// Too long for the header cache: the entry locates its strings.
			{"alg": "ES256", "kid": f.key.Kid(), "typ": "at+jwt", "cty": "json", "x-pad": strings.Repeat("p", 600)},
		} {
			tok, err := f.signer.SignWithHeader(hdr, claims)
			if err != nil {
				t.Fatal(err)
			}
			var fresh, hit engine.Token
			if err := f.v.VerifyString(tok, &fresh); err != nil || fresh.FromCache() {
				t.Fatalf("%s: first verify: err=%v cached=%v", name, err, fresh.FromCache())
			}
			if err := f.v.VerifyString(tok, &hit); err != nil || !hit.FromCache() {
				t.Fatalf("%s: second verify: err=%v cached=%v", name, err, hit.FromCache())
			}
			if d := tokenDiff(&fresh, &hit); d != "" {
				t.Errorf("%s, header %v: the hit differs from the verification: %s", name, hdr, d)
			}
		}
	}
}

// tokenDiff describes how two verification results differ ("" if not).
func tokenDiff(a, b *engine.Token) string {
	type view struct {
		Alg                       engine.Alg
		Kid, Typ, Cty, HRaw       []byte
		HasKid                    bool
		Iss, Sub, ID, Scope, CRaw []byte
		Aud                       [][]byte
		Exp, Nbf, Iat             int64
		HasExp, HasNbf, HasIat    bool
		Payload                   []byte
		Key                       *engine.Key
		Policy                    int
	}
	of := func(t *engine.Token) view {
		h, c := &t.Header, &t.Claims
		return view{h.Alg, h.Kid, h.Typ, h.Cty, h.Raw(), h.HasKid, c.Issuer, c.Subject, c.ID, c.Scope, c.Raw(),
			c.Audience, c.ExpiresAt, c.NotBefore, c.IssuedAt, c.HasExpiresAt(), c.HasNotBefore(), c.HasIssuedAt(),
			t.Payload(), t.Key(), t.PolicyIndex()}
	}
	va, vb := of(a), of(b)
	if !reflect.DeepEqual(va, vb) {
		return fmt.Sprintf("\n%+v\n%+v", va, vb)
	}
	return ""
}

// TestCacheAttachmentCopiedAligned checks what Attach promises: it keeps a
// copy of the block, which starts 8-byte aligned whatever the token's
// length, and which t itself returns at once.
func TestCacheAttachmentCopiedAligned(t *testing.T) {
	f := cachedFixture(t, engine.HS256, nil)
	for i := range 16 {
		claims := accessClaims()
		claims["jti"] = strings.Repeat("j", i) // token lengths of every remainder mod 8
		tok := []byte(f.token(t, claims))
		var res engine.Token
		if err := f.v.Verify(tok, &res); err != nil {
			t.Fatal(err)
		}
		block := []byte(fmt.Sprintf("X-Auth-Subject: user-%d", i))
		f.v.Attach(&res, block)
		if string(res.Attachment()) != string(block) {
			t.Fatalf("right after Attach, Attachment() = %q", res.Attachment())
		}
		block[0] = 'Y'
		if err := f.v.Verify(tok, &res); err != nil || !res.FromCache() {
			t.Fatalf("err=%v cached=%v", err, res.FromCache())
		}
		got := res.Attachment()
		if got[0] != 'X' || len(got) != len(block) {
			t.Fatalf("the attachment is %q: not a copy of what was attached", got)
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(got))); p%8 != 0 {
			t.Fatalf("token of %d bytes: attachment at %#x, not 8-byte aligned", len(tok), p)
		}
	}
}

// TestCacheAttachWhileReading has goroutines verify and attach to the same
// tokens at once, as concurrent first requests do: Attach replaces the
// entry under readers that hold the old one. Every reader must see its own
// token's claims, and an attachment that is either none or exactly the one
// made for that token; the count of bytes must stay exact.
func TestCacheAttachWhileReading(t *testing.T) {
	f := cachedFixture(t, engine.HS256, func(c *engine.Config) { c.CacheEntries = 64 })
	toks := make([][]byte, 100)
	for i := range toks {
		claims := accessClaims()
		claims["sub"] = fmt.Sprintf("user-%d", i)
		toks[i] = []byte(f.token(t, claims))
	}
	block := func(i int) []byte { return []byte(fmt.Sprintf("X-Auth-Subject: user-%d", i)) }
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res engine.Token
			for k := range 1500 {
				i := (k*7 + g*13) % len(toks)
				if err := f.v.Verify(toks[i], &res); err != nil {
					t.Error(err)
					return
				}
				if string(res.Claims.Subject) != fmt.Sprintf("user-%d", i) {
					t.Errorf("token %d: sub %q", i, res.Claims.Subject)
					return
				}
				if a := res.Attachment(); a != nil && string(a) != string(block(i)) {
					t.Errorf("token %d: attachment %q", i, a)
					return
				}
				if res.Attachment() == nil {
					f.v.Attach(&res, block(i))
				}
			}
		}()
	}
	wg.Wait()
	c := f.v.Cache()
	if got, want := engine.CacheEntryBytes(c), c.Stats().Bytes; got != want {
		t.Fatalf("entries add up to %d bytes, Stats counts %d", got, want)
	}
}
