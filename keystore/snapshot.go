package keystore

import (
	"sort"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// algSlots covers every engine.Alg value.
const algSlots = 32

// snapshot is one issuer's key set at one moment. It is immutable once
// published: readers use it without locks, writers replace it whole.
type snapshot struct {
	keys   []*engine.Key            // every key, static sources first
	byKid  map[string][]*engine.Key // keys with a kid; one entry per algorithm
	byAlg  [algSlots]algSlot        // keys per algorithm, for tokens without kid
	hasKid bool                     // some key has a kid
	// removed maps the kids that left the set to when they left (UnixNano);
	// at most maxRemovedKids, none of them in keys.
	removed map[string]int64
}

// algSlot is the key of one algorithm, if the set has exactly one, and how
// many keys of that algorithm the set has.
type algSlot struct {
	key *engine.Key
	n   int
}

var emptySnapshot = newSnapshot(nil)

func newSnapshot(keys []*engine.Key) *snapshot {
	s := &snapshot{keys: keys, byKid: make(map[string][]*engine.Key)}
	for _, k := range keys {
		if k.Kid() != "" {
			s.byKid[k.Kid()] = append(s.byKid[k.Kid()], k)
			s.hasKid = true
		}
		if a := int(k.Alg()); a < algSlots {
			s.byAlg[a].n++
			s.byAlg[a].key = k
		}
	}
	return s
}

// byKidAlg returns the key with kid bound to alg, else another key with kid
// (the verifier reports the algorithm mismatch); ok is false when no key has
// kid. It does not allocate.
func (s *snapshot) byKidAlg(kid []byte, alg engine.Alg) (key *engine.Key, ok bool) {
	ks, ok := s.byKid[string(kid)]
	if !ok {
		return nil, false
	}
	for _, k := range ks {
		if k.Alg() == alg {
			return k, true
		}
	}
	return ks[0], true
}

// forAlg returns the key bound to alg and how many keys are bound to it.
func (s *snapshot) forAlg(alg engine.Alg) (*engine.Key, int) {
	if a := int(alg); a < algSlots {
		return s.byAlg[a].key, s.byAlg[a].n
	}
	return nil, 0
}

// sameKeys reports whether keys holds exactly the snapshot's key pointers.
func (s *snapshot) sameKeys(keys []*engine.Key) bool {
	if len(keys) != len(s.keys) {
		return false
	}
	have := make(map[*engine.Key]bool, len(s.keys))
	for _, k := range s.keys {
		have[k] = true
	}
	for _, k := range keys {
		if !have[k] {
			return false
		}
	}
	return true
}

// reuse returns keys with every key that equals one of old replaced by that
// old pointer, so that unchanged keys keep their identity (and the verified
// tokens cached under them) across refreshes.
func reuse(keys, old []*engine.Key) []*engine.Key {
	out := make([]*engine.Key, len(keys))
	used := make([]bool, len(old))
	for i, k := range keys {
		out[i] = k
		for j, o := range old {
			if !used[j] && o.Equal(k) {
				out[i], used[j] = o, true
				break
			}
		}
	}
	return out
}

// maxRemovedKids bounds the removed kids an issuer remembers.
const maxRemovedKids = 256

// removedKids returns the removed-kid memory after keys replaced a set
// whose memory was prev and whose keys gone were dropped: prev's entries
// younger than ttl, plus the kids of gone, less every kid keys has (a key
// back under its old kid is known again), at most maxRemovedKids of the
// newest.
func removedKids(prev map[string]int64, gone, keys []*engine.Key, now int64, ttl time.Duration) map[string]int64 {
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		present[k.Kid()] = true
	}
	out := make(map[string]int64, len(prev)+len(gone))
	for kid, at := range prev {
		if now-at < int64(ttl) && !present[kid] {
			out[kid] = at
		}
	}
	for _, k := range gone {
		if kid := k.Kid(); kid != "" && !present[kid] {
			out[kid] = now
		}
	}
	if len(out) > maxRemovedKids {
		type entry struct {
			kid string
			at  int64
		}
		all := make([]entry, 0, len(out))
		for kid, at := range out {
			all = append(all, entry{kid, at})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].at > all[j].at })
		for _, e := range all[maxRemovedKids:] {
			delete(out, e.kid)
		}
	}
	return out
}

// dropped returns the keys of old that are not in keys.
func dropped(old, keys []*engine.Key) []*engine.Key {
	keep := make(map[*engine.Key]bool, len(keys))
	for _, k := range keys {
		keep[k] = true
	}
	var out []*engine.Key
	for _, k := range old {
		if !keep[k] {
			out = append(out, k)
		}
	}
	return out
}
