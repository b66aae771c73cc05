package keystore

import (
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
)

// negSlots is the size of the negative cache: a flood of distinct unknown
// kids overwrites slots instead of growing memory.
const negSlots = 4096

// negCache remembers kids that were unknown after a refetch (or during its
// cooldown), so that repeating them costs one hash and one atomic load.
// It is direct-mapped: slot = hash & mask, and each slot is one word — the
// upper half of the hash as a fingerprint and the expiry in seconds since
// base — so readers never lock and never see a torn entry. A fingerprint
// collision can only make an unknown kid fail fast a little longer; a
// known kid never reaches the negative cache.
type negCache struct {
	base  time.Time
	slots [negSlots]atomic.Uint64
}

func newNegCache(base time.Time) *negCache { return &negCache{base: base} }

// kidHash hashes kid for the issuer with the given seed. It does not allocate.
func kidHash(kid []byte, seed uint64) uint64 {
	h := xxhash.Sum64(kid) ^ seed
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// stamp converts t to whole seconds since base, rounded down, so that an
// entry never outlives the gate it mirrors.
func (c *negCache) stamp(t time.Time) int64 {
	return int64(t.Sub(c.base) / time.Second)
}

// has reports whether h is remembered as unknown at now.
func (c *negCache) has(h uint64, now time.Time) bool {
	v := c.slots[h&(negSlots-1)].Load()
	return v != 0 && uint32(v>>32) == uint32(h>>32) && c.stamp(now) < int64(uint32(v))
}

// add remembers h as unknown until until. A newer entry replaces an older
// one in the same slot.
func (c *negCache) add(h uint64, until time.Time) {
	s := c.stamp(until)
	if s <= 0 {
		return
	}
	if s > 1<<32-1 {
		s = 1<<32 - 1
	}
	v := h>>32<<32 | uint64(s)
	slot := &c.slots[h&(negSlots-1)]
	if slot.Load() != v {
		slot.Store(v)
	}
}
