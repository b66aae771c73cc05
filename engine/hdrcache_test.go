package engine

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

// TestHeaderCacheExact checks that the header cache answers a segment only
// with the entry stored for exactly that segment — through the entry
// stored last and through the table — and never for a segment that differs
// in one byte, in length, or in nothing but its slot.
func TestHeaderCacheExact(t *testing.T) {
	var c headerCache
	segs := make([][]byte, 300) // more than the table has slots: some collide
	for i := range segs {
		segs[i] = fmt.Appendf(nil, "eyJhbGciOiJIUzI1NiIsImtpZCI6Im%03dstSFMyNTYiLCJ0eXAiOiJKV1QifQ", i)
	}
	segs = append(segs, []byte("e"), []byte("eyJhbGc"), []byte("eyJhbGci"), []byte("eyJhbGciO"))
	for i, seg := range segs {
		c.put(seg, &Header{Alg: HS256, Kid: fmt.Appendf(nil, "%d", i)})
		if h := c.get(seg); h == nil || string(h.Kid) != fmt.Sprint(i) {
			t.Fatalf("segment %d: the entry just stored is not found: %v", i, h)
		}
		for k := range seg {
			changed := bytes.Clone(seg)
			changed[k] ^= 1
			if h := c.get(changed); h != nil && string(segs[atoi(t, h.Kid)]) != string(changed) {
				t.Fatalf("segment %d with byte %d changed found entry %s", i, k, h.Kid)
			}
		}
		if h := c.get(seg[:len(seg)-1]); h != nil && string(segs[atoi(t, h.Kid)]) != string(seg[:len(seg)-1]) {
			t.Fatalf("segment %d shortened found entry %s", i, h.Kid)
		}
		if h := c.get(append(bytes.Clone(seg), 'A')); h != nil {
			t.Fatalf("segment %d lengthened found entry %s", i, h.Kid)
		}
	}
	found := 0
	for i, seg := range segs {
		h := c.get(seg)
		if h == nil {
			continue // evicted by a later segment in its slot
		}
		if string(h.Kid) != fmt.Sprint(i) {
			t.Fatalf("segment %d found the entry of segment %s", i, h.Kid)
		}
		found++
	}
	if found < headerCacheSlots/2 {
		t.Errorf("only %d of %d segments are still cached in %d slots: the slots are badly spread", found, len(segs), headerCacheSlots)
	}
}

func atoi(t *testing.T, b []byte) int {
	t.Helper()
	n, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
