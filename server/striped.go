package server

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Striped counters. The counters every allowed request adds to (the
// requests by endpoint and route, the verify latency histogram) would be
// one cache line that every core writes: under load from many cores each
// add waits for the line to come from the core that wrote it last. A
// striped counter is a few cache-line-padded shards instead; a request adds
// to the shard of its goroutine (see shard), reading sums them.

// cacheLine is the size of the padding between shards (64 bytes on amd64
// and arm64; 128 covers adjacent-line prefetch too).
const cacheLine = 128

// numShards is the number of shards of every striped counter: a power of
// two, at least twice GOMAXPROCS at start, at most 64.
var numShards = func() int {
	n := 2
	for n < 2*runtime.GOMAXPROCS(0) && n < 64 {
		n *= 2
	}
	return n
}()

// nextShard numbers the shards handed out by newShard.
var nextShard atomic.Uint32

// newShard returns the next shard in turn, for an object kept in a
// sync.Pool (the request path's exchange): such a pool hands each processor
// (P) back the object it put there last, so a shard owned by the pooled
// object is in effect the processor's own, and the first objects, one per
// processor, get distinct shards. It is the request path's shard: a
// goroutine's (see shard) is not tied to a core, since fasthttp's workers
// move between processors from one request to the next, so two cores would
// often write one line.
func newShard() int { return int(nextShard.Add(1)-1) & (numShards - 1) }

// shard returns the shard of the calling goroutine, for counters added to
// away from the request path's exchange: a hash of an address on its
// stack, so that a goroutine keeps adding to one shard, and goroutines on
// other cores most likely to others. Go has no public per-P index; a
// collision costs only sharing a line, never a wrong count.
func shard() int {
	var x byte
	p := uint64(uintptr(unsafe.Pointer(&x))) >> 13 // stacks are at least 8 KiB apart
	return int((p * 0x9e3779b97f4a7c15) >> 58 & uint64(numShards-1))
}

// paddedCount is one shard of a stripedCounter.
type paddedCount struct {
	n atomic.Uint64
	_ [cacheLine - 8]byte
}

// stripedCounter is a counter whose adds from different cores do not share
// a cache line.
type stripedCounter struct {
	shards []paddedCount
}

func newStripedCounter() *stripedCounter {
	return &stripedCounter{shards: make([]paddedCount, numShards)}
}

// Inc adds one.
func (c *stripedCounter) Inc() { c.IncAt(shard()) }

// IncAt adds one to shard s (see newShard), in [0, numShards).
func (c *stripedCounter) IncAt(s int) { c.shards[s].n.Add(1) }

// Load returns the sum of the shards.
func (c *stripedCounter) Load() uint64 {
	var n uint64
	for i := range c.shards {
		n += c.shards[i].n.Load()
	}
	return n
}

// paddedInt is one shard of a stripedInt.
type paddedInt struct {
	n atomic.Int64
	_ [cacheLine - 8]byte
}

// stripedInt is a signed count whose adds from different cores do not
// share a cache line: a shard may go negative (a use may end on another
// shard than it began), only the sum is meaningful.
type stripedInt struct {
	shards []paddedInt
}

func newStripedInt() stripedInt { return stripedInt{shards: make([]paddedInt, numShards)} }

func (c *stripedInt) add(d int64) { c.addAt(shard(), d) }

// addAt adds d to shard s (see newShard), in [0, numShards).
func (c *stripedInt) addAt(s int, d int64) { c.shards[s].n.Add(d) }

// sum returns the sum of the shards.
func (c *stripedInt) sum() int64 {
	var n int64
	for i := range c.shards {
		n += c.shards[i].n.Load()
	}
	return n
}
