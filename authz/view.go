package authz

import (
	"encoding/binary"
	"unsafe"

	"github.com/jwtgate/jwtgate/engine"
)

// A token's block is what a policy computes once per distinct token and
// keeps with the token's cache entry (engine Verifier.Attach), so that a
// cached request neither rescans the payload nor renders a claim again:
//
//	tag     8 bytes: the policy that built it
//	memo    per route with claim conditions (up to maxMemo), 4 bytes: 0
//	        not evaluated yet, 1 the conditions hold, 2+k its k-th refusal
//	        (written with atomic operations once the block is shared)
//	index   per top-level claim name the policy's paths start with, the
//	        [start, end) of its value in the payload (4 + 4 bytes; end 0:
//	        absent)
//	values  per identity header, a 4-byte length and the value; then the
//	        payload header's
//
// The tag keeps two policies that share a verifier from reading each
// other's blocks. The memo makes a cached token's conditions cost one atomic
// load per request: they are evaluated once per distinct token and route.
// A block that is kept is the cache entry's copy, which engine
// Verifier.Attach makes 8-aligned, so its memo words can be used
// atomically; nothing else in it changes once it is kept.

const (
	tagBytes  = 8
	memoBytes = 4
	slotBytes = 8
	maxMemo   = 1024 // routes with conditions that get a memo word
)

// slotTable numbers the top-level claim names that claim paths start with.
type slotTable struct {
	slots map[string]int
}

// register gives p the slot of its first name.
func (s *slotTable) register(p *ClaimPath) {
	if s == nil || len(p.names) == 0 {
		p.slot = -1
		return
	}
	n, ok := s.slots[p.names[0]]
	if !ok {
		n = len(s.slots)
		s.slots[p.names[0]] = n
	}
	p.slot = n
}

// claimView reads the claims of one token: through the block's index when
// there is one, else by scanning the payload.
type claimView struct {
	raw   []byte
	index []byte
}

// lookup returns the value at path p.
func (v *claimView) lookup(p *ClaimPath) ([]byte, bool) {
	if v.index == nil || p.slot < 0 {
		return p.lookup(v.raw)
	}
	off := p.slot * slotBytes
	if off+slotBytes > len(v.index) {
		return nil, false
	}
	start, end := binary.BigEndian.Uint32(v.index[off:]), binary.BigEndian.Uint32(v.index[off+4:])
	if end == 0 || int(end) > len(v.raw) || start >= end {
		return nil, false
	}
	val := v.raw[start:end]
	for _, name := range p.names[1:] {
		var ok bool
		if val, ok = member(val, name); !ok {
			return nil, false
		}
	}
	return val, true
}

// appendIndex appends the index of payload: one scan of its top-level
// members, each looked up among the policy's names.
func (pol *Policy) appendIndex(dst, payload []byte, scratch *[]byte) []byte {
	base := len(dst)
	for range pol.slots.slots {
		dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	if len(pol.slots.slots) == 0 {
		return dst
	}
	i := skipWS(payload, 0)
	if i >= len(payload) || payload[i] != '{' {
		return dst
	}
	i = skipWS(payload, i+1)
	for i < len(payload) && payload[i] == '"' {
		end, esc, ok := stringEnd(payload, i)
		if !ok {
			return dst
		}
		name := payload[i+1 : end-1]
		if esc {
			*scratch = appendUnescaped((*scratch)[:0], name)
			name = *scratch
		}
		i = skipWS(payload, end)
		if i >= len(payload) || payload[i] != ':' {
			return dst
		}
		i = skipWS(payload, i+1)
		vend, ok := valueEnd(payload, i)
		if !ok {
			return dst
		}
		if n, found := pol.slots.slots[string(name)]; found {
			binary.BigEndian.PutUint32(dst[base+n*slotBytes:], uint32(i))
			binary.BigEndian.PutUint32(dst[base+n*slotBytes+4:], uint32(vend))
		}
		i = skipWS(payload, vend)
		if i < len(payload) && payload[i] == ',' {
			i = skipWS(payload, i+1)
		}
	}
	return dst
}

// owns reports whether block was built by this policy.
func (pol *Policy) owns(block []byte) bool {
	return len(block) >= pol.blockHeader && binary.LittleEndian.Uint64(block) == pol.tag
}

// memoWord returns the memo word of route r in the kept block.
func (pol *Policy) memoWord(block []byte, r *route) *uint32 {
	return (*uint32)(unsafe.Pointer(&block[tagBytes+r.memo*memoBytes]))
}

// buildBlock appends the block of the verified token t (raw: the token as
// sent) to dst. den is why the identity headers cannot be forwarded, if
// they cannot: then the block has no values and must not be kept.
func (pol *Policy) buildBlock(dst []byte, t *engine.Token, raw []byte, scratch *[]byte) (block []byte, den *Denial) {
	dst = binary.LittleEndian.AppendUint64(dst, pol.tag)
	for range pol.memos {
		dst = append(dst, 0, 0, 0, 0)
	}
	dst = pol.appendIndex(dst, t.Claims.Raw(), scratch)
	view := claimView{raw: t.Claims.Raw(), index: dst[pol.indexAt:]}
	mark := len(dst)
	dst, den = pol.identity.build(dst, t, raw, &view)
	if den != nil {
		dst = dst[:mark]
	}
	return dst, den
}

// view returns the claim view of t through block.
func (pol *Policy) view(t *engine.Token, block []byte) claimView {
	return claimView{raw: t.Claims.Raw(), index: block[pol.indexAt:pol.blockHeader]}
}
