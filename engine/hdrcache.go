package engine

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
)

// headerCacheSlots is the size of the direct-mapped header cache, 1 <<
// headerCacheBits. An issuer signs every token with one of a handful of
// headers ({"alg","kid","typ"}), so a small table holds them all.
const (
	headerCacheBits  = 8
	headerCacheSlots = 1 << headerCacheBits
)

// maxCachedHeader bounds the encoded header kept in the cache.
const maxCachedHeader = 512

// headerCache remembers parsed protected headers by their exact base64url
// segment, so that the header of a token is decoded and scanned once per key,
// not once per token. Only headers of tokens whose signature verified are
// stored, so hostile input can neither fill nor churn it. Readers take no
// lock and allocate nothing.
//
// Most verifiers see one header (one issuer, one current key), so the entry
// stored last is tried first, by comparison alone; the others are found in
// a direct-mapped table. Either way the segment must equal the entry's.
type headerCache struct {
	last  atomic.Pointer[headerEntry]
	slots [headerCacheSlots]atomic.Pointer[headerEntry]
}

// headerEntry is an immutable parsed header and the segment it came from,
// with the key that last verified a token under it.
type headerEntry struct {
	seg    []byte
	header Header
	// key is the key that verified the last token with this header, the
	// key that the next one most likely names: Verifier.verify starts its
	// HMAC with it before the real lookup, and uses that MAC only if the
	// lookup returns this very key. It is the one mutable field.
	key atomic.Pointer[Key]
	// mispredicted counts the genuine tokens under this header that another
	// key verified; at maxMispredictions the entry predicts no more (several
	// keys share the header: tenants whose HS256 tokens have the same alg,
	// typ and kid, or none), so each token stops paying for two HMACs.
	mispredicted atomic.Uint32
}

// maxMispredictions is how many mispredicted keys a header entry tolerates
// (a rotation under the same header costs one) before it stops predicting.
const maxMispredictions = 8

// get returns the parsed header of the encoded segment seg, or nil.
func (c *headerCache) get(seg []byte) *Header {
	if e := c.entry(seg); e != nil {
		return &e.header
	}
	return nil
}

// prefix returns the entry stored last and the length of its segment when
// token starts with that segment and a dot; else nil, 0. A cached segment
// has no dot, so that dot is the token's first.
func (c *headerCache) prefix(token []byte) (*headerEntry, int) {
	e := c.last.Load()
	if e == nil || len(token) <= len(e.seg) || token[len(e.seg)] != '.' || string(token[:len(e.seg)]) != string(e.seg) {
		return nil, 0
	}
	return e, len(e.seg)
}

// entry returns the entry of the encoded segment seg, or nil.
func (c *headerCache) entry(seg []byte) *headerEntry {
	if e := c.last.Load(); e != nil && string(e.seg) == string(seg) {
		return e
	}
	e := c.slots[segmentSlot(seg)].Load()
	if e == nil || string(e.seg) != string(seg) {
		return nil
	}
	return e
}

// predictedPads returns the HMAC pads of the key that last verified a
// token with this header, and the key, when there is such a key, it has
// pads (HS256 with the SHA-NI kernel) and it is not retired; else nil, nil.
func (e *headerEntry) predictedPads() (*Key, *hmacPads) {
	if e == nil {
		return nil, nil
	}
	k := e.key.Load()
	if k == nil || k.pads == nil || k.Retired() || e.mispredicted.Load() >= maxMispredictions {
		return nil, nil
	}
	return k, k.pads
}

// segmentSlot returns the table slot of the encoded header seg: a hash of
// all its bytes, eight at a time in two interleaved multiply chains (so
// that the chains overlap in the pipeline), that any change in any byte or
// in the length moves. A collision costs only a miss: get compares the
// whole segment.
func segmentSlot(seg []byte) uint64 {
	const k0, k1 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
	a, b := uint64(len(seg))*k0, uint64(len(seg))*k1
	i := 0
	for ; i+16 <= len(seg); i += 16 {
		w := seg[i : i+16 : i+16]
		a = (a ^ binary.LittleEndian.Uint64(w[:8])) * k0
		b = (b ^ binary.LittleEndian.Uint64(w[8:])) * k1
	}
	if i+8 <= len(seg) {
		a = (a ^ binary.LittleEndian.Uint64(seg[i:i+8:i+8])) * k0
		i += 8
	}
	if i < len(seg) { // the last eight bytes, overlapping; the length is mixed in
		var w uint64
		if len(seg) >= 8 {
			w = binary.LittleEndian.Uint64(seg[len(seg)-8:])
		} else {
			var tail [8]byte
			copy(tail[:], seg)
			w = binary.LittleEndian.Uint64(tail[:])
		}
		b = (b ^ w) * k1
	}
	h := (a ^ bits.RotateLeft64(b, 31)) * k0
	return h >> (64 - headerCacheBits) // the top bits mix every input bit
}

// put stores the parsed header h of segment seg, copying everything it
// points at, and returns the new entry (nil when seg is too long to keep).
func (c *headerCache) put(seg []byte, h *Header) *headerEntry {
	if len(seg) > maxCachedHeader {
		return nil
	}
	block := make([]byte, len(seg)+len(h.raw)+len(h.Kid)+len(h.Typ)+len(h.Cty))
	e := &headerEntry{header: *h}
	block, e.seg = cut(block, seg)
	block, e.header.raw = cut(block, h.raw)
	block, e.header.Kid = cutKeepNil(block, h.Kid)
	block, e.header.Typ = cutKeepNil(block, h.Typ)
	_, e.header.Cty = cutKeepNil(block, h.Cty)
	c.slots[segmentSlot(seg)].Store(e)
	c.last.Store(e)
	return e
}

// cut copies src to the front of block and returns the rest of block and the copy.
func cut(block, src []byte) (rest, dst []byte) {
	n := copy(block, src)
	return block[n:], block[:n:n]
}

// cutKeepNil is cut that keeps a nil src nil (an absent header member).
func cutKeepNil(block, src []byte) (rest, dst []byte) {
	if src == nil {
		return block, nil
	}
	return cut(block, src)
}
