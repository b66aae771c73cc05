package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// nameSeed seeds the member-name hash: random per process, so input cannot
// be crafted to collide.
var nameSeed = maphash.MakeSeed()

// nameSet detects duplicate member names in one JSON object in O(1) per name,
// so that an object with thousands of members costs linear time, not
// quadratic. It lives in a reusable Token: after the first use of a given
// size, it allocates nothing. Entries are stamped with a generation, so
// starting over costs nothing either.
type nameSet struct {
	slots []nameSlot
	names [][]byte
	heads [linearNames]uint64 // nameHead of names[i], while there are few
	gen   uint32
	mask  uint32
}

type nameSlot struct {
	gen uint32
	idx uint32
}

// reset prepares the set for an object of at most n members.
func (s *nameSet) reset(n int) {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if cap(s.slots) < size {
		s.slots = make([]nameSlot, size)
		s.gen = 0
	}
	s.slots = s.slots[:size]
	s.mask = uint32(size - 1)
	s.names = s.names[:0]
	s.gen++
	if s.gen == 0 { // wrapped: stale stamps could collide, so clear once
		clear(s.slots[:cap(s.slots)])
		s.gen = 1
	}
}

// linearNames is how many names add compares one by one before it switches
// to the hash table: typical objects have fewer members, and comparing a
// word per name costs less than hashing them.
const linearNames = 16

// add records name (escapes already resolved) and reports false if the
// object already had a member of that name.
func (s *nameSet) add(name []byte) bool {
	n := len(s.names)
	if n < linearNames {
		h := nameHead(name)
		for k := range s.heads[:n] {
			if s.heads[k] == h && string(s.names[k]) == string(name) {
				return false
			}
		}
		s.heads[n] = h
		s.names = append(s.names, name)
		return true
	}
	if n == linearNames { // switch: index the names seen so far
		for i, prev := range s.names {
			s.insert(prev, uint32(i))
		}
	}
	if !s.insert(name, uint32(n)) {
		return false
	}
	s.names = append(s.names, name)
	return true
}

// nameHead summarizes name in one word — its length, its first eight bytes
// and its last eight — so that names with different heads differ and only
// equal heads need the bytes compared.
func nameHead(name []byte) uint64 {
	n := len(name)
	if n >= 8 {
		first := binary.LittleEndian.Uint64(name)
		last := binary.LittleEndian.Uint64(name[n-8:])
		return first ^ bits.RotateLeft64(last, 29) ^ uint64(n)*0x9e3779b97f4a7c15
	}
	var w uint64
	for i, c := range name {
		w |= uint64(c) << (8 * i)
	}
	return w | uint64(n)<<56
}

// insert adds name, stored at names[idx], to the hash table, or reports false
// if an equal name is there already.
func (s *nameSet) insert(name []byte, idx uint32) bool {
	i := uint32(maphash.Bytes(nameSeed, name)) & s.mask
	for {
		sl := &s.slots[i]
		if sl.gen != s.gen {
			sl.gen, sl.idx = s.gen, idx
			return true
		}
		if string(s.names[sl.idx]) == string(name) {
			return false
		}
		i = (i + 1) & s.mask
	}
}

// maxMembers bounds the number of members an object of n bytes can have:
// the smallest member, `"":0`, takes four bytes plus a separator.
func maxMembers(n int) int { return n/5 + 1 }
