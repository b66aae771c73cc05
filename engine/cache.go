package engine

import (
	"bytes"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Cache defaults (README.md, "Defaults").
const (
	DefaultCacheEntries = 65536
	DefaultCacheBytes   = 128 << 20
)

// cacheWays is the associativity: a token can live in one of this many slots
// of its set. Eight 8-byte tags fill one cache line and eight entry pointers
// the next, so a lookup touches one line of tags and, on a tag match, the
// line of pointers beside it and one entry.
const cacheWays = 8

// maxFreq caps an entry's hit counter; hot entries need only survive a few
// rounds of aging.
const maxFreq = 3

// Cache is the verified-token cache: a set-associative table indexed by the
// xxhash of the token (its signature's tail, see indexedTail), whose
// entries are immutable once published. Readers take no lock and allocate
// nothing; a hit requires the whole token to match byte for byte. Writers
// (one insert per distinct valid token, one attachment per entry) lock only
// the set they change.
//
// Replacement is S3-FIFO-like within each set: a new entry starts on
// probation (frequency 0) and is promoted by hits; the victim is the oldest
// entry on probation, and only when every entry of the set has been hit are
// all aged by one. A burst of new tokens therefore replaces other new tokens
// and cannot flush entries that are being hit. Memory is bounded by the
// number of entries and by a byte budget per set, which counts every byte an
// entry keeps: the allocations holding the token, its decoded header and
// claims, its audience list, the entry itself and its attachment, each
// rounded up to the size the Go allocator reserves for it.
type Cache struct {
	sets     []cacheSet
	writers  []setWriters // writers' state of each set, apart from what readers touch
	mask     uint64
	setBytes int64
	hash     func([]byte) uint64 // xxhash; tests swap it to force collisions
	fifo     bool                // replacement ignores hits (benchmarks compare policies)
	stats    [statStripes]cacheStripe
	evicts   atomic.Uint64
	invals   atomic.Uint64
	inserts  atomic.Uint64
}

// cacheSet is what a lookup reads: its tags (the index hash of the entry
// in each slot, 0 for none) and its slots, 128 bytes. A table of 256 sets
// or more (2,048 entries; the default has 8,192) is a large object, which
// the allocator places on a page boundary, so each set is exactly one line
// of tags and one line of pointers (an adjacent pair, which CPUs fetch
// together), shared with no other set. A smaller table (32 KiB at most, the
// allocator then offsets it by 8 bytes) stays in a core's caches anyway.
type cacheSet struct {
	tags  [cacheWays]atomic.Uint64
	slots [cacheWays]atomic.Pointer[cacheEntry]
}

// setWriters is the state of one set that only its writers use.
type setWriters struct {
	mu    sync.Mutex
	bytes int64 // sum of the entries' sizes; guarded by mu
	seq   uint64
}

// cacheEntry is one verified token, immutable once published except for its
// hit frequency and its attachment.
type cacheEntry struct {
	hash    uint64
	token   []byte
	key     *Key
	pol     *policy // the issuer policy that judged it
	header  Header
	claims  Claims
	payload []byte
	size    int64  // bytes the entry keeps (see newEntry); guarded by the set's mu
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

// entryStructBytes and attachHeaderBytes are what the allocator reserves
// for a cacheEntry and for the slice header Attach stores.
var (
	entryStructBytes  = allocSize(int(unsafe.Sizeof(cacheEntry{})))
	attachHeaderBytes = allocSize(int(unsafe.Sizeof([]byte(nil))))
)

// sliceHeaderBytes is the size of one element of an audience list.
const sliceHeaderBytes = int64(unsafe.Sizeof([]byte(nil)))

// allocSize returns the bytes the Go allocator reserves for an object of n
// bytes: its size class, or whole pages for a large object. Size classes are
// the same for objects with and without pointers, so a byte slice, whose
// capacity append rounds up to its size class, measures it. It allocates:
// call it at setup.
func allocSize(n int) int64 {
	return int64(cap(append([]byte(nil), make([]byte, n)...)))
}

// MemoryLimitHeadroom is what MemoryLimitFor allows besides twice the token
// caches' budget: the rest of a gateway's heap, goroutine stacks and the Go
// runtime's own memory.
const MemoryLimitHeadroom = 64 << 20

// MemoryLimitFor returns a soft memory limit for runtime/debug.SetMemoryLimit
// in a process whose verified-token caches may together keep cacheBytes (the
// sum of their budgets; 0 or less for no cache): twice cacheBytes plus
// MemoryLimitHeadroom.
//
// A cache filled to its budget is live heap, and by default (GOGC=100) the
// Go collector lets the heap grow to twice its live size before it collects
// again, on top of which come the evicted entries not yet collected. Without
// a limit, a flood of distinct valid tokens can therefore take the process
// well past twice the budget. With this limit, the collector runs earlier as
// the process nears it, keeping the memory the Go runtime holds (about the
// resident size) within twice the budget plus the headroom. The live heap of
// a full cache plus a gateway's own stays far below the limit, so the
// collector does not run constantly. The engine is a library and never sets
// the limit itself; jwtgate serve does, unless GOMEMLIMIT is set.
func MemoryLimitFor(cacheBytes int64) int64 {
	return 2*max(cacheBytes, 0) + MemoryLimitHeadroom
}

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
		writers:  make([]setWriters, sets),
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

// Stats returns the counters. Bytes is the memory the entries keep, as
// counted against the byte budget. It walks the table, taking each set's
// lock in turn: call it for metrics scrapes, not per request.
func (c *Cache) Stats() CacheStats {
	var s CacheStats
	for i := range c.stats {
		s.Hits += c.stats[i].hits.Load()
		s.Misses += c.stats[i].misses.Load()
	}
	s.Inserts, s.Evictions, s.Invalidations = c.inserts.Load(), c.evicts.Load(), c.invals.Load()
	for i := range c.sets {
		set, wr := &c.sets[i], &c.writers[i]
		wr.mu.Lock()
		for w := range set.slots {
			if set.slots[w].Load() != nil {
				s.Entries++
			}
		}
		s.Bytes += wr.bytes
		wr.mu.Unlock()
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
	set, wr := &c.sets[h&c.mask], &c.writers[h&c.mask]
	wr.mu.Lock()
	defer wr.mu.Unlock()
	for w := 0; w < cacheWays; w++ {
		if set.slots[w].Load() == e {
			set.remove(wr, w)
			c.invals.Add(1)
			return
		}
	}
}

// put publishes the token just verified into t and returns its entry (an
// existing one if another goroutine stored the same token first), or nil
// when the token does not fit the set's byte budget.
func (c *Cache) put(h uint64, t *Token) *cacheEntry {
	// The sizes before rounding are a lower bound: a token that cannot fit
	// is not copied at all.
	if int64(len(t.raw)+len(t.buf))+entryStructBytes > c.setBytes {
		return nil
	}
	e := newEntry(h, t)
	if e.size > c.setBytes {
		return nil
	}
	set, wr := &c.sets[h&c.mask], &c.writers[h&c.mask]
	wr.mu.Lock()
	defer wr.mu.Unlock()
	free := -1
	for w := 0; w < cacheWays; w++ {
		old := set.slots[w].Load()
		if old == nil {
			if free < 0 {
				free = w
			}
			continue
		}
		if old.hash == h && bytes.Equal(old.token, t.raw) {
			return old
		}
		if old.key.Retired() {
			set.remove(wr, w)
			c.invals.Add(1)
			if free < 0 {
				free = w
			}
		}
	}
	for free < 0 || wr.bytes+e.size > c.setBytes {
		w := set.victim(c.fifo, -1)
		if w < 0 {
			return nil
		}
		set.remove(wr, w)
		c.evicts.Add(1)
		if free < 0 {
			free = w
		}
	}
	wr.seq++
	e.seq = wr.seq
	wr.bytes += e.size
	set.slots[free].Store(e)
	set.tags[free].Store(h)
	c.inserts.Add(1)
	return e
}

// attach stores b with e and counts it against e's set, evicting other
// entries of the set if it must. It does nothing when e is no longer in the
// cache, already has an attachment, or cannot fit the set's budget with it.
func (c *Cache) attach(e *cacheEntry, b []byte) {
	add := int64(cap(b)) + attachHeaderBytes
	set, wr := &c.sets[e.hash&c.mask], &c.writers[e.hash&c.mask]
	wr.mu.Lock()
	defer wr.mu.Unlock()
	slot := -1
	for w := 0; w < cacheWays; w++ {
		if set.slots[w].Load() == e {
			slot = w
		}
	}
	if slot < 0 || e.attach.Load() != nil || e.size+add > c.setBytes {
		return
	}
	for wr.bytes+add > c.setBytes {
		w := set.victim(c.fifo, slot)
		if w < 0 {
			return
		}
		set.remove(wr, w)
		c.evicts.Add(1)
	}
	e.attach.Store(&b)
	e.size += add
	wr.bytes += add
}

// remove empties slot w. The caller holds wr.mu, wr being the set's.
func (set *cacheSet) remove(wr *setWriters, w int) {
	e := set.slots[w].Load()
	set.tags[w].Store(0)
	set.slots[w].Store(nil)
	wr.bytes -= e.size
}

// victim picks the slot to evict, never slot keep (-1 for none): the oldest
// entry never hit since it was inserted or last aged; when every entry has
// been hit, all are aged by one and the choice is made again. It returns -1
// when there is nothing to evict. The caller holds the set's writer lock.
func (set *cacheSet) victim(fifo bool, keep int) int {
	for round := 0; round <= maxFreq; round++ {
		best, bestSeq, any := -1, uint64(0), false
		for w := 0; w < cacheWays; w++ {
			e := set.slots[w].Load()
			if e == nil || w == keep {
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
// point at into memory owned by the entry, and counts that memory: the
// block, the entry and the audience list, each as the allocator reserves it.
func newEntry(h uint64, t *Token) *cacheEntry {
	// append rounds the capacity up to the allocation's size class.
	block := append([]byte(nil), make([]byte, len(t.raw)+len(t.buf))...)
	size := int64(cap(block)) + entryStructBytes
	block = block[:len(t.raw)+len(t.buf)]
	copy(block, t.raw)
	scratch := block[len(t.raw):]
	copy(scratch, t.buf)
	r := rebaser{from: t.buf, to: scratch}
	e := &cacheEntry{hash: h, token: block[:len(t.raw):len(t.raw)], key: t.key, pol: t.pol, size: size}
	e.header = t.Header
	if !t.sharedH { // a header from the header cache is immutable: share it
		e.header.Kid, e.header.Typ, e.header.Cty, e.header.raw = r.of(t.Header.Kid), r.of(t.Header.Typ), r.of(t.Header.Cty), r.of(t.Header.raw)
	}
	c := t.Claims
	c.Issuer, c.Subject, c.ID, c.Scope, c.raw = r.of(c.Issuer), r.of(c.Subject), r.of(c.ID), r.of(c.Scope), r.of(c.raw)
	if len(c.Audience) > 0 {
		auds := append([][]byte(nil), make([][]byte, len(c.Audience))...)
		size += int64(cap(auds)) * sliceHeaderBytes
		for i, a := range c.Audience {
			auds[i] = r.of(a)
		}
		c.Audience = auds[:len(c.Audience):len(c.Audience)]
	} else {
		c.Audience = nil
	}
	e.claims = c
	e.payload = r.of(t.payload)
	e.size = size
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
	t.pol = e.pol
	t.entry = e
	t.hit = true
}

// Attach stores b (for instance precomputed response headers) with the cache
// entry of the token t was just verified into, for Token.Attachment to
// return on later hits. The first attachment wins; b must not be modified
// afterwards. b's capacity counts against the cache's byte budget, which
// may evict other entries; Attach does nothing when t has no cache entry,
// the entry has been evicted meanwhile, or b cannot fit the budget.
func (v *Verifier) Attach(t *Token, b []byte) {
	if e := t.entry; e != nil && e.attach.Load() == nil && v.cache != nil {
		v.cache.attach(e, b)
	}
}
