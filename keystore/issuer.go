package keystore

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"golang.org/x/sync/singleflight"
)

// issuer is one configured issuer: its key sources, its published snapshot
// and the state of its fetching.
type issuer struct {
	store  *Store
	cfg    Issuer
	desc   string // "issuer \"https://...\"", for errors
	seed   uint64 // negative-cache hash seed
	remote bool
	snap   atomic.Pointer[snapshot]

	// A tenant template's "iss" before and after engine.TenantPlaceholder
	// (tmplPrefix is "" for an exact issuer).
	tmplPrefix, tmplSuffix string

	// Errors built once, so that failing lookups allocate nothing.
	errUnknownKid      *engine.Error
	errKeyRemoved      *engine.Error
	errKeysUnavailable *engine.Error
	errKidless         *engine.Error

	// sf shares one fetch among every caller that wants one at the same
	// time: the background loop, Refresh and unknown-kid refetches.
	// fetchSeq counts the fetches started, so that a caller that must see
	// the key set as of its call (an unknown kid, Refresh) does not settle
	// for a fetch that was in flight before it (see refetchAfter).
	sf       singleflight.Group
	fetchSeq atomic.Uint64

	// The unknown-kid gate: at most one refetch in flight (kidFlight), and
	// none before kidNext (UnixNano): the cooldown after a refetch that
	// succeeded (RotationGap instead after one that brought new keys, at
	// most once per cooldown), a short growing backoff after one that
	// failed. Readers use the atomics; gateMu serializes starting a refetch.
	kidFlight  atomic.Pointer[flight]
	kidNext    atomic.Int64
	gateMu     sync.Mutex
	kidFails   int   // guarded by gateMu
	kidRotated int64 // guarded by gateMu: when a RotationGap was last granted (UnixNano; 0: never)

	// Fetch-private state, touched only inside the shared fetch (one at a
	// time per issuer, ordered by the singleflight group).
	jwksURL   string
	jwksCond  validators
	discCond  validators
	lastBody  uint64 // xxhash of the last JWKS body parsed
	haveBody  bool
	fetchFail int

	// mu guards the key lists and status below and serializes installs.
	mu          sync.Mutex
	inline      []*engine.Key // inline JWKS and Keys, from New
	files       []*engine.Key // JWKSFile and PEMFiles, from Start and Refresh
	remoteKeys  []*engine.Key // the last good remote set
	nextRefresh time.Time
	lastRefresh time.Time
	lastError   string

	wake chan struct{} // nudges the refresh loop to re-read nextRefresh (see scheduleRefresh)
}

// flight is one unknown-kid refetch in progress; done closes when it ends.
type flight struct{ done chan struct{} }

func newIssuer(s *Store, cfg Issuer, index int) *issuer {
	is := &issuer{
		store:   s,
		cfg:     cfg,
		desc:    cfg.name(index),
		seed:    (uint64(index) + 1) * 0x9e3779b97f4a7c15,
		remote:  cfg.remote(),
		jwksURL: cfg.JWKSURL,
		wake:    make(chan struct{}, 1),
	}
	is.errUnknownKid = engine.ErrUnknownKid.Refine(fmt.Sprintf("no key with the token's kid is known for issuer %q", cfg.Issuer))
	is.errKeysUnavailable = engine.ErrKeysUnavailable.Refine(fmt.Sprintf("the signing keys of issuer %q are unavailable", cfg.Issuer))
	is.errKeyRemoved = engine.ErrKeyRemoved.Refine(fmt.Sprintf("the token's kid names a key that issuer %q removed from its key set", cfg.Issuer))
	is.errKidless = engine.ErrUnknownKid.Refine(fmt.Sprintf("the token's kid matches no key of issuer %q: its keys have no kid, and several are bound to the token's algorithm", cfg.Issuer))
	if pre, suf, ok := strings.Cut(cfg.Issuer, engine.TenantPlaceholder); ok {
		is.tmplPrefix, is.tmplSuffix = pre, suf
	}
	is.snap.Store(emptySnapshot)
	return is
}

// lookup finds the key for a token in snap. With mayFetch, an unknown kid
// (or an empty set) goes through the unknown-kid gate of a remote issuer.
// Hits allocate nothing and write nothing.
func (is *issuer) lookup(snap *snapshot, kid []byte, alg engine.Alg, mayFetch bool) (*engine.Key, error) {
	if len(kid) > 0 && snap.hasKid {
		if k, ok := snap.byKidAlg(kid, alg); ok {
			return k, nil
		}
		if len(snap.removed) > 0 && is.wasRemoved(snap, kid) {
			is.store.stats.local().removed.Add(1)
			return nil, is.errKeyRemoved
		}
		if mayFetch && is.remote {
			return is.unknownKid(snap, kid, alg)
		}
		return nil, is.errUnknownKid
	}
	// No kid, or a set whose keys have none: choose by algorithm.
	k, n := snap.forAlg(alg)
	switch {
	case n == 1:
		return k, nil
	case n > 1 && len(kid) > 0:
		return nil, is.errKidless
	case n > 1:
		return nil, engine.KidRequiredError(alg, alg)
	case len(snap.keys) > 0:
		return snap.keys[0], nil // bound to another algorithm: the verifier reports the mismatch
	}
	if mayFetch && is.remote {
		return is.unknownKid(snap, kid, alg)
	}
	return nil, is.errKeysUnavailable
}

// wasRemoved reports whether kid left the issuer's key set less than
// RemovedKidTTL ago. It does not allocate.
func (is *issuer) wasRemoved(snap *snapshot, kid []byte) bool {
	at, ok := snap.removed[string(kid)]
	return ok && is.store.clock.Now().UnixNano()-at < int64(is.cfg.RemovedKidTTL)
}

// unknownKid handles a kid that snap does not have (or an empty set): fail
// fast from the negative cache or during the cooldown, else wait for the one
// refetch of this issuer and look again. Before failing fast it checks that
// no newer snapshot was published since snap was read (a refetch may have
// just ended), so a kid is never reported unknown while the keys hold it.
func (is *issuer) unknownKid(snap *snapshot, kid []byte, alg engine.Alg) (*engine.Key, error) {
	s := is.store
	now := s.clock.Now()
	h := kidHash(kid, is.seed)
	if s.neg.has(h, now) {
		if cur := is.snap.Load(); cur != snap {
			return is.lookup(cur, kid, alg, true) // look again in the newer keys
		}
		s.stats.local().negHits.Add(1)
		return nil, is.failure(snap)
	}
	if !is.awaitRefetch(now, kid, alg) {
		if cur := is.snap.Load(); cur != snap {
			return is.lookup(cur, kid, alg, true) // look again in the newer keys
		}
		s.stats.local().cooled.Add(1)
		s.neg.add(h, time.Unix(0, is.kidNext.Load()))
		return nil, is.failure(snap)
	}
	s.stats.refetched.Add(1)
	k, err := is.lookup(is.snap.Load(), kid, alg, false)
	if err == is.errUnknownKid || err == is.errKeysUnavailable {
		s.neg.add(h, time.Unix(0, is.kidNext.Load()))
	}
	return k, err
}

// failure is the error for a kid that cannot be found in snap.
func (is *issuer) failure(snap *snapshot) error {
	if len(snap.keys) == 0 {
		return is.errKeysUnavailable
	}
	return is.errUnknownKid
}

// awaitRefetch passes the unknown-kid gate. It returns true after a refetch
// ended (one it started, or one already in flight that it waited for), and
// false at once when the issuer is in its cooldown or backoff, or the store
// is not running: no caller ever waits for a rate limit to expire.
//
// The refetch answers with a fetch that started after it: a background
// refresh (or Refresh) already in flight may carry the issuer's key set from
// before the kid was published, and settling for it would start a cooldown
// that locks the new key out. Such a fetch is waited for, and followed by
// the refetch's own unless its keys hold kid for alg.
func (is *issuer) awaitRefetch(now time.Time, kid []byte, alg engine.Alg) bool {
	if f := is.kidFlight.Load(); f != nil {
		<-f.done
		return true
	}
	if !is.store.running.Load() || now.UnixNano() < is.kidNext.Load() {
		return false
	}
	is.gateMu.Lock()
	if f := is.kidFlight.Load(); f != nil {
		is.gateMu.Unlock()
		<-f.done
		return true
	}
	if now.UnixNano() < is.kidNext.Load() {
		is.gateMu.Unlock()
		return false
	}
	f := &flight{done: make(chan struct{})}
	is.kidFlight.Store(f)
	is.gateMu.Unlock()

	asked := is.fetchSeq.Load()
	before := is.snap.Load()
	err := is.refetchAfter(asked, func() bool {
		_, err := is.lookup(is.snap.Load(), kid, alg, false)
		return err == nil
	})
	end := is.store.clock.Now()

	is.gateMu.Lock()
	if err == nil {
		is.kidFails = 0
		// A refetch that brought new keys answered a rotation: the next one
		// may come after the rotation gap, unless a gap was granted less
		// than a cooldown ago (so rotations cost at most one extra fetch
		// per cooldown, even from an issuer whose set changes every time).
		gap := is.cfg.Cooldown
		if broughtNew(before, is.snap.Load()) && (is.kidRotated == 0 || end.UnixNano()-is.kidRotated >= int64(is.cfg.Cooldown)) {
			gap, is.kidRotated = is.cfg.RotationGap, end.UnixNano()
		}
		is.kidNext.Store(end.Add(gap).UnixNano())
	} else {
		is.kidFails++
		is.kidNext.Store(end.Add(kidBackoff(is.kidFails, is.cfg.Cooldown)).UnixNano())
	}
	is.kidFlight.Store(nil)
	is.gateMu.Unlock()
	close(f.done)
	return true
}

// broughtNew reports whether after has a key that before has not (keys
// kept across an install keep their pointer).
func broughtNew(before, after *snapshot) bool {
	if after == before {
		return false
	}
	for _, k := range after.keys {
		found := false
		for _, o := range before.keys {
			if o == k {
				found = true
				break
			}
		}
		if !found {
			return true
		}
	}
	return false
}

// status reports the issuer's state.
func (is *issuer) status() IssuerStatus {
	n := len(is.snap.Load().keys)
	is.mu.Lock()
	defer is.mu.Unlock()
	return IssuerStatus{
		Issuer:      is.cfg.Issuer,
		Keys:        n,
		Ready:       n > 0,
		LastRefresh: is.lastRefresh,
		LastError:   is.lastError,
	}
}
