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
// entry keeps: the one allocation holding the entry, the token, its
// attachment and its decoded header and claims (an entry too large for one
// small object is two), rounded up to the size the Go allocator reserves.
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

// cacheSet is what a lookup reads: its tags (the whole 64-bit index hash of
// the entry in each slot, 0 for none: beyond the bits that chose the set,
// 51 with the default table, so a tag matches another token than its own
// about once in 2^51 lookups, and the entry it leads to is nearly always
// the token) and its slots, 128 bytes. A table of 256 sets
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

// cacheEntry is one verified token. It is one allocation with its bytes
// (see buildEntry): this struct, 48 bytes, then the token, whose first
// bytes share the struct's cache line, then the rest of the entry
// (entryMeta), the attachment and the decoded header and payload. A hit
// reads them in that order, one run of lines from the entry's address on,
// which CPUs prefetch; the token's address is known from the entry's own,
// so its lines are fetched while the struct's is. The struct holds what a
// lookup compares and the entry's pointers, which the collector must see;
// entryMeta locates the header's and the claims' strings by their spans in
// the decoded bytes, and a hit builds the slices from them
// (Token.fromEntry). An entry is immutable once published, except for its
// hit frequency and the writers' fields of its entryMeta; attaching builds
// a new entry that replaces it.
type cacheEntry struct {
	hash   uint64
	tokLen uint32
	freq   atomic.Uint32
	key    *Key
	pol    *policy // the issuer policy that judged it
	shared *Header // the header, when it is the header cache's; else entryMeta's spans
	ext    *byte   // the entry's bytes, when too large to follow the struct; else nil
}

// entryMeta is the rest of an entry, in its bytes right after the token.
type entryMeta struct {
	exp, nbf, iat    int64
	present          claimBits
	alg              Alg
	hasKid           bool
	nAud             uint32 // audiences, whose spans are at audAt
	attach           span   // in the entry's bytes; nilSpan for none
	audAt, decAt     uint32 // in the entry's bytes: the audiences' spans, the decoded bytes
	kid, typ, cty    span   // in the decoded bytes, as the rest
	hraw             span
	iss, sub, jti    span
	scope, craw, pay span

	// What only writers use.
	end  uint32 // bytes used
	size int64  // bytes the entry keeps (see buildEntry); guarded by the set's lock
	seq  uint64 // insertion order within the set; guarded by the set's lock
}

// span locates a string of an entry: its offset and length. nilSpan
// stands for a nil slice (an absent header field or claim).
type span struct{ off, n uint32 }

var nilSpan = span{off: ^uint32(0)}

// maxEntryBytes bounds what an entry's spans can locate.
const maxEntryBytes = 1 << 31

// bytes returns the address of the entry's bytes: right after the struct,
// unless the entry is too large for that.
func (e *cacheEntry) bytes() unsafe.Pointer {
	if e.ext != nil {
		return unsafe.Pointer(e.ext)
	}
	return unsafe.Add(unsafe.Pointer(e), entryHead)
}

// token returns the entry's copy of the token.
func (e *cacheEntry) token() []byte { return unsafe.Slice((*byte)(e.bytes()), e.tokLen) }

// metaAt is where entryMeta starts in the bytes of an entry of a token of n bytes.
func metaAt(n int) int { return (n + 7) &^ 7 }

// meta returns the rest of the entry.
func (e *cacheEntry) meta() *entryMeta {
	return (*entryMeta)(unsafe.Add(e.bytes(), metaAt(int(e.tokLen))))
}

// bytesAt returns the string at s of the entry's bytes from offset at.
func (e *cacheEntry) bytesAt(at uint32, s span) []byte {
	if s.off == nilSpan.off {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(e.bytes(), uintptr(at)+uintptr(s.off))), s.n)
}

// audSpans returns the spans of the audiences.
func (e *cacheEntry) audSpans(m *entryMeta) []span {
	return unsafe.Slice((*span)(unsafe.Add(e.bytes(), m.audAt)), m.nAud)
}

// attachment returns the entry's attachment, nil when none.
func (e *cacheEntry) attachment() []byte { return e.bytesAt(0, e.meta().attach) }

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

// entryStructBytes is what the allocator reserves for a cacheEntry alone,
// as an entry too large for entryClasses has it.
var entryStructBytes = allocSize(int(unsafe.Sizeof(cacheEntry{})))

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
		if e != nil && e.hash == h && bytes.Equal(e.token(), token) {
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
	if int64(len(t.raw)+len(t.buf))+int64(entryHead) > c.setBytes {
		return nil
	}
	e := newEntry(h, t)
	if e == nil || e.meta().size > c.setBytes {
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
		if old.hash == h && bytes.Equal(old.token(), t.raw) {
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
	em := e.meta()
	for free < 0 || wr.bytes+em.size > c.setBytes {
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
	em.seq = wr.seq
	wr.bytes += em.size
	set.slots[free].Store(e)
	set.tags[free].Store(h)
	c.inserts.Add(1)
	return e
}

// attach replaces e with a copy of it that holds a copy of b, counted
// against e's set, evicting other entries of the set if it must, and
// returns the copy. It does nothing and returns nil when b is nil, e is no
// longer in the cache, already has an attachment, or cannot fit the set's
// budget with it.
func (c *Cache) attach(e *cacheEntry, b []byte) *cacheEntry {
	em := e.meta()
	if b == nil || em.attach != nilSpan || em.size+int64(len(b)) > c.setBytes {
		return nil
	}
	n := e.withAttachment(b)
	if n == nil {
		return nil
	}
	nm := n.meta()
	if nm.size > c.setBytes {
		return nil
	}
	set, wr := &c.sets[e.hash&c.mask], &c.writers[e.hash&c.mask]
	wr.mu.Lock()
	defer wr.mu.Unlock()
	slot := -1
	for w := 0; w < cacheWays; w++ {
		if set.slots[w].Load() == e {
			slot = w
		}
	}
	if slot < 0 {
		return nil
	}
	for wr.bytes-em.size+nm.size > c.setBytes {
		w := set.victim(c.fifo, slot)
		if w < 0 {
			return nil
		}
		set.remove(wr, w)
		c.evicts.Add(1)
	}
	nm.seq = em.seq
	n.freq.Store(e.freq.Load())
	wr.bytes += nm.size - em.size
	set.slots[slot].Store(n)
	return n
}

// remove empties slot w. The caller holds wr.mu, wr being the set's.
func (set *cacheSet) remove(wr *setWriters, w int) {
	e := set.slots[w].Load()
	set.tags[w].Store(0)
	set.slots[w].Store(nil)
	wr.bytes -= e.meta().size
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
			if seq := e.meta().seq; (fifo || e.freq.Load() == 0) && (best < 0 || seq < bestSeq) {
				best, bestSeq = w, seq
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
// point at into one new entry (see buildEntry), or returns nil when it
// cannot: when a string does not lie in the Token's scratch memory, which
// does not happen (TestCacheHitMatchesVerify would see the token not
// cached), or for a token of 2 GiB.
func newEntry(h uint64, t *Token) *cacheEntry {
	c := &t.Claims
	dec := spanner{from: t.buf, ok: true}
	var hdr [4]span
	if t.sharedH == nil {
		hdr = [4]span{dec.of(t.Header.Kid), dec.of(t.Header.Typ), dec.of(t.Header.Cty), dec.of(t.Header.raw)}
	}
	claims := [6]span{dec.of(c.Issuer), dec.of(c.Subject), dec.of(c.ID), dec.of(c.Scope), dec.of(c.raw), dec.of(t.payload)}
	for _, a := range c.Audience {
		dec.of(a) // checked here, written below
	}
	if !dec.ok {
		return nil
	}
	e, m := buildEntry(t.raw, nil, uint32(len(c.Audience)), t.buf)
	if e == nil {
		return nil
	}
	aud := e.audSpans(m)
	for i, a := range c.Audience {
		aud[i] = dec.of(a)
	}
	e.hash, e.key, e.pol, e.shared = h, t.key, t.pol, t.sharedH
	m.exp, m.nbf, m.iat, m.present = c.ExpiresAt, c.NotBefore, c.IssuedAt, c.present
	m.alg, m.hasKid = t.Header.Alg, t.Header.HasKid
	m.kid, m.typ, m.cty, m.hraw = hdr[0], hdr[1], hdr[2], hdr[3]
	m.iss, m.sub, m.jti, m.scope, m.craw, m.pay = claims[0], claims[1], claims[2], claims[3], claims[4], claims[5]
	return e
}

// withAttachment returns a copy of e that holds attach, or nil when it
// cannot be made.
func (e *cacheEntry) withAttachment(attach []byte) *cacheEntry {
	m := e.meta()
	n, nm := buildEntry(e.token(), attach, m.nAud, unsafe.Slice((*byte)(e.bytes()), m.end)[m.decAt:])
	if n == nil {
		return nil
	}
	copy(n.audSpans(nm), e.audSpans(m))
	n.hash, n.key, n.pol, n.shared = e.hash, e.key, e.pol, e.shared
	layout := *nm
	*nm = *m
	nm.attach, nm.audAt, nm.decAt, nm.end, nm.size = layout.attach, layout.audAt, layout.decAt, layout.end, layout.size
	return n
}

// buildEntry allocates an entry and lays out its bytes, in the order a hit
// reads them: the token, its entryMeta (8-byte aligned), the attachment
// (attach, 8-byte aligned; nil for none), the spans of nAud audiences (left
// to the caller) and the decoded bytes (decoded), which the spans of the
// header, the claims and the audiences locate. It sets the layout and the
// size, which counts every byte the entry keeps, as the allocator reserves
// it. It returns nil when the bytes are too large for spans.
func buildEntry(token, attach []byte, nAud uint32, decoded []byte) (*cacheEntry, *entryMeta) {
	attachAt := metaAt(len(token)) + int(unsafe.Sizeof(entryMeta{}))
	audAt := (attachAt + len(attach) + 7) &^ 7
	decAt := audAt + int(nAud)*int(unsafe.Sizeof(span{}))
	end := decAt + len(decoded)
	if end >= maxEntryBytes {
		return nil, nil
	}
	e, data, size := allocEntry(end)
	copy(data, token)
	copy(data[attachAt:], attach)
	copy(data[decAt:], decoded)
	e.tokLen = uint32(len(token))
	m := e.meta()
	m.size = size
	m.attach = nilSpan
	if attach != nil {
		m.attach = span{uint32(attachAt), uint32(len(attach))}
	}
	m.nAud, m.audAt, m.decAt, m.end = nAud, uint32(audAt), uint32(decAt), uint32(end)
	return e, m
}

// entryHead is the size of the struct at the start of an entry's allocation.
const entryHead = unsafe.Sizeof(cacheEntry{})

// mallocHeader is what the Go allocator adds in front of an object with
// pointers larger than 512 bytes (its type), within the object's size class.
const mallocHeader = 8

// entryBlock is the allocation of an entry whose bytes fit D, a byte array.
type entryBlock[D any] struct {
	e    cacheEntry
	data D
}

func newEntryBlock[D any]() (*cacheEntry, []byte) {
	b := new(entryBlock[D])
	return &b.e, unsafe.Slice((*byte)(unsafe.Pointer(&b.data)), unsafe.Sizeof(b.data))
}

// entryClass is an allocation for entries: size bytes, one of the Go
// allocator's size classes, of which the entry's bytes can use
// size - mallocHeader - entryHead.
type entryClass struct {
	size  int64
	alloc func() (*cacheEntry, []byte)
}

// entryClasses are the allocations of entries up to 32 KiB, the largest
// small object, each the size of a Go size class (so nothing is lost to
// rounding) and each at most 1/8 larger than the one before. An object of
// 512 bytes or less has no malloc header; its class leaves those 8 bytes
// unused rather than fall to the class below.
var entryClasses = [...]entryClass{
	{384, newEntryBlock[[384 - mallocHeader - entryHead]byte]},
	{416, newEntryBlock[[416 - mallocHeader - entryHead]byte]},
	{448, newEntryBlock[[448 - mallocHeader - entryHead]byte]},
	{480, newEntryBlock[[480 - mallocHeader - entryHead]byte]},
	{512, newEntryBlock[[512 - mallocHeader - entryHead]byte]},
	{576, newEntryBlock[[576 - mallocHeader - entryHead]byte]},
	{640, newEntryBlock[[640 - mallocHeader - entryHead]byte]},
	{704, newEntryBlock[[704 - mallocHeader - entryHead]byte]},
	{768, newEntryBlock[[768 - mallocHeader - entryHead]byte]},
	{896, newEntryBlock[[896 - mallocHeader - entryHead]byte]},
	{1024, newEntryBlock[[1024 - mallocHeader - entryHead]byte]},
	{1152, newEntryBlock[[1152 - mallocHeader - entryHead]byte]},
	{1280, newEntryBlock[[1280 - mallocHeader - entryHead]byte]},
	{1408, newEntryBlock[[1408 - mallocHeader - entryHead]byte]},
	{1536, newEntryBlock[[1536 - mallocHeader - entryHead]byte]},
	{1792, newEntryBlock[[1792 - mallocHeader - entryHead]byte]},
	{2048, newEntryBlock[[2048 - mallocHeader - entryHead]byte]},
	{2304, newEntryBlock[[2304 - mallocHeader - entryHead]byte]},
	{2688, newEntryBlock[[2688 - mallocHeader - entryHead]byte]},
	{3072, newEntryBlock[[3072 - mallocHeader - entryHead]byte]},
	{3456, newEntryBlock[[3456 - mallocHeader - entryHead]byte]},
	{4096, newEntryBlock[[4096 - mallocHeader - entryHead]byte]},
	{4864, newEntryBlock[[4864 - mallocHeader - entryHead]byte]},
	{5376, newEntryBlock[[5376 - mallocHeader - entryHead]byte]},
	{6144, newEntryBlock[[6144 - mallocHeader - entryHead]byte]},
	{6912, newEntryBlock[[6912 - mallocHeader - entryHead]byte]},
	{8192, newEntryBlock[[8192 - mallocHeader - entryHead]byte]},
	{9472, newEntryBlock[[9472 - mallocHeader - entryHead]byte]},
	{10240, newEntryBlock[[10240 - mallocHeader - entryHead]byte]},
	{12288, newEntryBlock[[12288 - mallocHeader - entryHead]byte]},
	{13568, newEntryBlock[[13568 - mallocHeader - entryHead]byte]},
	{16384, newEntryBlock[[16384 - mallocHeader - entryHead]byte]},
	{18432, newEntryBlock[[18432 - mallocHeader - entryHead]byte]},
	{20480, newEntryBlock[[20480 - mallocHeader - entryHead]byte]},
	{24576, newEntryBlock[[24576 - mallocHeader - entryHead]byte]},
	{27264, newEntryBlock[[27264 - mallocHeader - entryHead]byte]},
	{32768, newEntryBlock[[32768 - mallocHeader - entryHead]byte]},
}

// allocEntry returns a new entry with n bytes, its bytes, and the bytes
// the allocation keeps. An entry too large for every class is two
// allocations: the struct and its bytes.
func allocEntry(n int) (*cacheEntry, []byte, int64) {
	for _, class := range entryClasses {
		if n <= int(class.size)-mallocHeader-int(entryHead) {
			e, data := class.alloc()
			return e, data[:n], class.size
		}
	}
	// append rounds the capacity up to the allocation's size class.
	data := append([]byte(nil), make([]byte, n)...)
	return &cacheEntry{ext: unsafe.SliceData(data)}, data[:n], entryStructBytes + int64(cap(data))
}

// spanner locates slices of one buffer, from, by their offsets in it; ok
// turns false when one lies outside it.
type spanner struct {
	from []byte
	ok   bool
}

func (r *spanner) of(s []byte) span {
	if s == nil {
		return nilSpan
	}
	if len(s) == 0 {
		return span{}
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.from[:cap(r.from)])))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	if p < base || p-base+uintptr(len(s)) > uintptr(len(r.from)) {
		r.ok = false
		return nilSpan
	}
	return span{uint32(p - base), uint32(len(s))}
}

// fromEntry fills t from a cache hit: the header and the claims are slices
// of the entry's bytes, the audience list is t's own array. Setting the
// fields one by one is cheaper than building the structs whole.
func (t *Token) fromEntry(e *cacheEntry) {
	base := e.bytes()
	m := (*entryMeta)(unsafe.Add(base, metaAt(int(e.tokLen))))
	d := spans{unsafe.Add(base, m.decAt)}
	if e.shared != nil {
		t.Header = *e.shared
	} else {
		h := &t.Header
		h.Alg, h.HasKid = m.alg, m.hasKid
		h.Kid, h.Typ, h.Cty, h.raw = d.str(m.kid), d.str(m.typ), d.str(m.cty), d.str(m.hraw)
	}
	c := &t.Claims
	c.Audience = nil
	if m.nAud > 0 {
		aud := t.auds[:0]
		for _, a := range unsafe.Slice((*span)(unsafe.Add(base, m.audAt)), m.nAud) {
			aud = append(aud, d.str(a))
		}
		t.auds, c.Audience = aud[:0], aud
	}
	c.Issuer, c.Subject, c.ID, c.Scope, c.raw = d.str(m.iss), d.str(m.sub), d.str(m.jti), d.str(m.scope), d.str(m.craw)
	c.ExpiresAt, c.NotBefore, c.IssuedAt, c.present = m.exp, m.nbf, m.iat, m.present
	t.payload = d.str(m.pay)
	t.key = e.key
	t.pol = e.pol
	t.entry = e
	t.hit = true
}

// spans reads strings of an entry's decoded bytes, which start at p.
type spans struct{ p unsafe.Pointer }

func (d spans) str(s span) []byte {
	if s.off == nilSpan.off {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(d.p, s.off)), s.n)
}

// Attach keeps a copy of b (for instance precomputed response headers)
// with the cache entry of the token t was just verified into, for
// Token.Attachment to return on later hits and on t. The first attachment
// wins. The copy starts at an 8-byte aligned address, so that its users may
// share aligned words of it through atomic operations; it is kept in one
// allocation with the entry, which Attach replaces. Its length counts
// against the cache's byte budget, which may evict other entries; Attach
// does nothing when b is nil, t has no cache entry, the entry has been
// evicted meanwhile, or b cannot fit the budget.
func (v *Verifier) Attach(t *Token, b []byte) {
	if e := t.entry; e != nil && e.meta().attach == nilSpan && v.cache != nil {
		if n := v.cache.attach(e, b); n != nil {
			t.entry = n
		}
	}
}
