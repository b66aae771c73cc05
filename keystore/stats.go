package keystore

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// Stats are the store's counters since New, all monotonic, for metrics.
type Stats struct {
	// FetchOK counts fetches answered 200 with a usable key set (changed or
	// not); FetchNotModified counts 304 answers to conditional requests.
	FetchOK, FetchNotModified uint64
	// FetchErrors counts failed fetches by kind: "timeout", "network",
	// "status", "too_large", "invalid", "redirect", "discovery" (every kind
	// is present, zero or not).
	FetchErrors map[string]uint64
	// Unknown-kid lookups by outcome: answered after waiting for a refetch
	// (whether or not the kid then existed), failed fast because the issuer
	// was in its cooldown or backoff, or failed fast from the negative cache.
	UnknownKidRefetched, UnknownKidCooledDown, UnknownKidNegativeHit uint64
	// KeyRemoved counts lookups refused at once (engine.ErrKeyRemoved)
	// because the token's kid left its issuer's key set: they never
	// refetch, and never start or extend a cooldown.
	KeyRemoved uint64
}

// IssuerStatus is one issuer's state, for /readyz and metrics.
type IssuerStatus struct {
	Issuer      string    // the configured "iss"
	Keys        int       // usable keys now
	Ready       bool      // at least one usable key
	LastRefresh time.Time // last successful load or fetch (zero if none yet)
	LastError   string    // the last fetch or load error; "" after a success
}

// counterStripes spreads the fail-fast counters over cache lines, so that
// goroutines hammering unknown kids in parallel do not share a written line.
const counterStripes = 16

type stripe struct {
	cooled  atomic.Uint64
	negHits atomic.Uint64
	removed atomic.Uint64
	_       [128 - 24]byte
}

// counters are the store's statistics.
type counters struct {
	fetchOK, notModified atomic.Uint64
	fetchErrors          [len(fetchKinds)]atomic.Uint64
	refetched            atomic.Uint64
	stripes              [counterStripes]stripe
}

// local returns the stripe of the calling goroutine, chosen by the address
// of its stack: goroutines run on distinct stacks, so parallel callers land
// on distinct stripes without any shared state.
func (c *counters) local() *stripe {
	var marker byte
	p := uint64(uintptr(unsafe.Pointer(&marker)))
	return &c.stripes[((p>>13)*0x9e3779b97f4a7c15)>>60%counterStripes]
}

func (c *counters) fetchError(kind string) {
	for i, k := range fetchKinds {
		if k == kind {
			c.fetchErrors[i].Add(1)
			return
		}
	}
}

func (c *counters) snapshot() Stats {
	s := Stats{
		FetchOK:             c.fetchOK.Load(),
		FetchNotModified:    c.notModified.Load(),
		FetchErrors:         make(map[string]uint64, len(fetchKinds)),
		UnknownKidRefetched: c.refetched.Load(),
	}
	for i, k := range fetchKinds {
		s.FetchErrors[k] = c.fetchErrors[i].Load()
	}
	for i := range c.stripes {
		s.UnknownKidCooledDown += c.stripes[i].cooled.Load()
		s.UnknownKidNegativeHit += c.stripes[i].negHits.Load()
		s.KeyRemoved += c.stripes[i].removed.Load()
	}
	return s
}
