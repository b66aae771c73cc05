package engine

import (
	"bytes"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Cache defaults (see ARCHITECTURE.md).
const (
	DefaultCacheEntries = 65536
	DefaultCacheBytes   = 128 << 20
)

// cacheWays is the associativity: a token can live in one of this many slots
// of its set. Eight 8-byte tags fill one cache line, so a lookup touches one
// line of tags and, on a tag match, one entry.
const cacheWays = 8

// maxFreq caps an entry's hit counter; hot entries need only survive a few
// rounds of aging.
const maxFreq = 3

// Cache is the verified-token cache: a set-associative table indexed by the
// xxhash of the token (its signature's tail, see indexedTail), whose entries are immutable once published. Readers
// take no lock and allocate nothing; a hit requires the whole token to match
// byte for byte. Writers (one insert per distinct valid token) lock only the
// set they change.
//
// Replacement is S3-FIFO-like within each set: a new entry starts on
// probation (frequency 0) and is promoted by hits; the victim is the oldest
// entry on probation, and only when every entry of the set has been hit are
// all aged by one. A burst of new tokens therefore replaces other new tokens
// and cannot flush entries that are being hit. Memory is bounded by the
// number of entries and by a byte budget per set.
type Cache struct {
	sets     []cacheSet
	mask     uint64
	setBytes int64
	hash     func([]byte) uint64 // xxhash; tests swap it to force collisions
	fifo     bool                // replacement ignores hits (benchmarks compare policies)
	stats    [statStripes]cacheStripe
	evicts   atomic.Uint64
	invals   atomic.Uint64
	inserts  atomic.Uint64
}

type cacheSet struct {
	mu    sync.Mutex // writers only
	tags  [cacheWays]atomic.Uint64
	slots [cacheWays]atomic.Pointer[cacheEntry]
	bytes int64 // guarded by mu
	seq   uint64
}

// cacheEntry is one verified token, immutable once published except for its
// hit frequency and its attachment.
type cacheEntry struct {
	hash    uint64
	token   []byte
	key     *Key
	header  Header
	claims  Claims
	payload []byte
	size    int64
	seq     uint64 // insertion order within the set
	freq    atomic.Uint32
	attach  atomic.Pointer[[]byte]
}

// statStripes spreads the hit and miss counters over cache lines, chosen by
// the caller's Token, so parallel readers do not write one shared line.
const (
	statStripeBits = 5
	statStripes    = 1 << statStripeBits
)

type cacheStripe struct {
	hits   atomic.Uint64
	misses atomic.Uint64
	_      [112]byte
}

// entryOverhead approximates the memory of an entry besides its bytes.
const entryOverhead = int64(unsafe.Sizeof(cacheEntry{})) + 64

// NewCache returns a cache of about entries tokens (0 means
// DefaultCacheEntries) using at most maxBytes (0 means DefaultCacheBytes).
func NewCache(entries int, maxBytes int64) *Cache {
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	sets := 1
	for sets*cacheWays < entries {
		sets <<= 1
	}
	return &Cache{
		sets:     make([]cacheSet, sets),
		mask:     uint64(sets - 1),
		setBytes: maxBytes / int64(sets),
		hash:     tokenHash,
	}
}

// CacheStats are the cache's counters since it was made.
type CacheStats struct {
	Hits, Misses, Inserts, Evictions, Invalidations uint64
	Entries                                         int
	Bytes                                           int64
}

// Stats returns the counters. It walks the table: call it for metrics
// scrapes, not per request.
func (c *Cache) Stats() CacheStats {
	var s CacheStats
	for i := range c.stats {
		s.Hits += c.stats[i].hits.Load()
		s.Misses += c.stats[i].misses.Load()
	}
	s.Inserts, s.Evictions, s.Invalidations = c.inserts.Load(), c.evicts.Load(), c.invals.Load()
	for i := range c.sets {
		set := &c.sets[i]
		for w := range set.slots {
			if e := set.slots[w].Load(); e != nil {
				s.Entries++
				s.Bytes += e.size
			}
		}
	}
	return s
}

// indexedTail is how many trailing bytes of a token the index hash covers.
// They are the end of its signature: unpredictable for every genuine token,
// so they spread entries as well as the whole token would, at a fraction of
// the cost for long RSA tokens. Correctness never rests on the hash: a hit
// needs the whole token to match byte for byte.
const indexedTail = 64

// tokenHash is the default index hash: xxhash of the token's tail, mixed
// with its length.
func tokenHash(token []byte) uint64 {
	tail := token[max(0, len(token)-indexedTail):]
	return xxhash.Sum64(tail) ^ uint64(len(token))*0x9e3779b97f4a7c15
}

// hashOf returns the token's index hash; 0 marks an empty slot, so it is never 0.
func (c *Cache) hashOf(token []byte) uint64 {
	if h := c.hash(token); h != 0 {
		return h
	}
	return 1
}

// stripe picks the caller's counter stripe from the address of its Token.
// Tokens of concurrent callers are distinct objects (often on distinct
// goroutine stacks, which share their low address bits), so the address is
// mixed by a multiplicative hash before its top bits choose the stripe.
func (c *Cache) stripe(t *Token) *cacheStripe {
	x := uint64(uintptr(unsafe.Pointer(t))) * 0x9e3779b97f4a7c15
	return &c.stats[x>>(64-statStripeBits)]
}

// get returns the entry holding exactly token, or nil.
func (c *Cache) get(h uint64, token []byte, t *Token) *cacheEntry {
	set := &c.sets[h&c.mask]
	for w := 0; w < cacheWays; w++ {
		if set.tags[w].Load() != h {
			continue
		}
		e := set.slots[w].Load()
		if e != nil && e.hash == h && bytes.Equal(e.token, token) {
			if e.freq.Load() < maxFreq { // write only when it changes
				e.freq.Add(1)
			}
			c.stripe(t).hits.Add(1)
			return e
		}
	}
	c.stripe(t).misses.Add(1)
	return nil
}

// invalidate removes e (found stale by a reader) if it is still published.
func (c *Cache) invalidate(h uint64, e *cacheEntry) {
	set := &c.sets[h&c.mask]
	set.mu.Lock()
	defer set.mu.Unlock()
	for w := 0; w < cacheWays; w++ {
		if set.slots[w].Load() == e {
			set.remove(w)
			c.invals.Add(1)
			return
		}
	}
}

// put publishes the token just verified into t and returns its entry (an
// existing one if another goroutine stored the same token first).
func (c *Cache) put(h uint64, t *Token) *cacheEntry {
	size := int64(len(t.raw)+len(t.buf)) + entryOverhead
	if size > c.setBytes {
		return nil
	}
	set := &c.sets[h&c.mask]
	set.mu.Lock()
	defer set.mu.Unlock()
	free := -1
	for w := 0; w < cacheWays; w++ {
		e := set.slots[w].Load()
		if e == nil {
			if free < 0 {
				free = w
			}
			continue
		}
		if e.hash == h && bytes.Equal(e.token, t.raw) {
			return e
		}
		if e.key.Retired() {
			set.remove(w)
			c.invals.Add(1)
			if free < 0 {
				free = w
			}
		}
	}
	for free < 0 || set.bytes+size > c.setBytes {
		w := set.victim(c.fifo)
		if w < 0 {
			return nil
		}
		set.remove(w)
		c.evicts.Add(1)
		if free < 0 {
			free = w
		}
	}
	e := newEntry(h, t, size)
	set.seq++
	e.seq = set.seq
	set.bytes += size
	set.slots[free].Store(e)
	set.tags[free].Store(h)
	c.inserts.Add(1)
	return e
}

// remove empties slot w. The caller holds set.mu.
func (set *cacheSet) remove(w int) {
	e := set.slots[w].Load()
	set.tags[w].Store(0)
	set.slots[w].Store(nil)
	set.bytes -= e.size
}

// victim picks the slot to evict: the oldest entry never hit since it was
// inserted or last aged; when every entry has been hit, all are aged by one
// and the choice is made again. It returns -1 for an empty set. The caller
// holds set.mu.
func (set *cacheSet) victim(fifo bool) int {
	for round := 0; round <= maxFreq; round++ {
		best, bestSeq, any := -1, uint64(0), false
		for w := 0; w < cacheWays; w++ {
			e := set.slots[w].Load()
			if e == nil {
				continue
			}
			any = true
			if (fifo || e.freq.Load() == 0) && (best < 0 || e.seq < bestSeq) {
				best, bestSeq = w, e.seq
			}
		}
		if best >= 0 || !any {
			return best
		}
		for w := 0; w < cacheWays; w++ {
			if e := set.slots[w].Load(); e != nil {
				if f := e.freq.Load(); f > 0 {
					e.freq.Store(f - 1)
				}
			}
		}
	}
	return -1
}

// newEntry copies the verified token and everything its claims and header
// point at into memory owned by the entry.
func newEntry(h uint64, t *Token, size int64) *cacheEntry {
	block := make([]byte, len(t.raw)+len(t.buf))
	copy(block, t.raw)
	scratch := block[len(t.raw):]
	copy(scratch, t.buf)
	r := rebaser{from: t.buf, to: scratch}
	e := &cacheEntry{hash: h, token: block[:len(t.raw):len(t.raw)], key: t.key, size: size}
	e.header = t.Header
	if !t.sharedH { // a header from the header cache is immutable: share it
		e.header.Kid, e.header.Typ, e.header.Cty, e.header.raw = r.of(t.Header.Kid), r.of(t.Header.Typ), r.of(t.Header.Cty), r.of(t.Header.raw)
	}
	c := t.Claims
	c.Issuer, c.Subject, c.ID, c.Scope, c.raw = r.of(c.Issuer), r.of(c.Subject), r.of(c.ID), r.of(c.Scope), r.of(c.raw)
	if len(c.Audience) > 0 {
		auds := make([][]byte, len(c.Audience))
		for i, a := range c.Audience {
			auds[i] = r.of(a)
		}
		c.Audience = auds[:len(auds):len(auds)]
	} else {
		c.Audience = nil
	}
	e.claims = c
	e.payload = r.of(t.payload)
	return e
}

// rebaser maps slices of one buffer onto the same offsets of its copy.
type rebaser struct{ from, to []byte }

func (r rebaser) of(s []byte) []byte {
	if s == nil {
		return nil
	}
	if len(s) == 0 {
		return r.to[:0:0]
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.from[:cap(r.from)])))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	if p < base || p-base+uintptr(len(s)) > uintptr(len(r.from)) {
		// Every string is decoded into the scratch, so this does not happen
		// (TestCacheInsertAllocs would count it); copying keeps the entry
		// from aliasing memory it does not own if it ever did.
		return append([]byte(nil), s...)
	}
	off := int(p - base)
	return r.to[off : off+len(s) : off+len(s)]
}

// fromEntry fills t from a cache hit.
func (t *Token) fromEntry(e *cacheEntry) {
	t.Header = e.header
	t.Claims = e.claims
	t.payload = e.payload
	t.key = e.key
	t.entry = e
	t.hit = true
}

// Attach stores b (for instance precomputed response headers) with the cache
// entry of the token t was just verified into, for Token.Attachment to
// return on later hits. The first attachment wins; b must not be modified
// afterwards. It does nothing when t has no cache entry.
func (v *Verifier) Attach(t *Token, b []byte) {
	if t.entry != nil && t.entry.attach.Load() == nil {
		t.entry.attach.CompareAndSwap(nil, &b)
	}
}
