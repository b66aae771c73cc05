package engine

import (
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// headerCacheSlots is the size of the direct-mapped header cache. An issuer
// signs every token with one of a handful of headers ({"alg","kid","typ"}),
// so a small table holds them all.
const headerCacheSlots = 256

// maxCachedHeader bounds the encoded header kept in the cache.
const maxCachedHeader = 512

// headerCache remembers parsed protected headers by their exact base64url
// segment, so that the header of a token is decoded and scanned once per key,
// not once per token. Only headers of tokens whose signature verified are
// stored, so hostile input can neither fill nor churn it. Readers take no
// lock and allocate nothing.
type headerCache struct {
	slots [headerCacheSlots]atomic.Pointer[headerEntry]
}

// headerEntry is an immutable parsed header and the segment it came from.
type headerEntry struct {
	seg    []byte
	header Header
}

// get returns the parsed header of the encoded segment seg, or nil.
func (c *headerCache) get(seg []byte) *Header {
	e := c.slots[xxhash.Sum64(seg)%headerCacheSlots].Load()
	if e == nil || string(e.seg) != string(seg) {
		return nil
	}
	return &e.header
}

// put stores the parsed header h of segment seg, copying everything it
// points at.
func (c *headerCache) put(seg []byte, h *Header) {
	if len(seg) > maxCachedHeader {
		return
	}
	block := make([]byte, len(seg)+len(h.raw)+len(h.Kid)+len(h.Typ)+len(h.Cty))
	e := &headerEntry{header: *h}
	block, e.seg = cut(block, seg)
	block, e.header.raw = cut(block, h.raw)
	block, e.header.Kid = cutKeepNil(block, h.Kid)
	block, e.header.Typ = cutKeepNil(block, h.Typ)
	_, e.header.Cty = cutKeepNil(block, h.Cty)
	c.slots[xxhash.Sum64(seg)%headerCacheSlots].Store(e)
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
