package engine

import "unsafe"

// SetCacheHash replaces the cache's index hash, so tests can force distinct
// tokens onto one hash.
func SetCacheHash(c *Cache, h func([]byte) uint64) { c.hash = h }

// CacheCapacity returns the number of slots of the cache.
func CacheCapacity(c *Cache) int { return len(c.sets) * cacheWays }

// CacheSetLayout returns the size of a set (what a lookup reads) and the
// address of the first, to check that each set is one aligned pair of lines.
func CacheSetLayout(c *Cache) (size, addr uintptr) {
	return unsafe.Sizeof(c.sets[0]), uintptr(unsafe.Pointer(&c.sets[0]))
}

// CacheSetBytes returns the byte budget of one set.
func CacheSetBytes(c *Cache) int64 { return c.setBytes }

// SetCacheFIFO makes replacement plain FIFO, ignoring hits, so benchmarks can
// compare the policies.
func SetCacheFIFO(c *Cache) { c.fifo = true }

// CacheEntryBytes returns the sum of the sizes of the entries in the cache,
// walking them, to check the per-set totals Stats reports.
func CacheEntryBytes(c *Cache) int64 {
	var n int64
	for i := range c.sets {
		set, wr := &c.sets[i], &c.writers[i]
		wr.mu.Lock()
		for w := range set.slots {
			if e := set.slots[w].Load(); e != nil {
				n += e.meta().size
			}
		}
		wr.mu.Unlock()
	}
	return n
}

// PolicyFor returns the index of the policy a token whose "iss" is iss
// goes to (-1: none): the one step that differs with the number of issuers.
func PolicyFor(v *Verifier, iss []byte) int {
	if p := v.policyFor(iss); p != nil {
		return p.index
	}
	return -1
}

// VerifyRSAPSS runs k's precomputed-modulus RSASSA-PSS check directly,
// without Key.Verify's hashing and scratch buffer. k must be an RSA key.
func VerifyRSAPSS(k *Key, digest, sig []byte) bool {
	return k.rsaKey.verifyPSS(k.alg.Hash(), digest, sig)
}
