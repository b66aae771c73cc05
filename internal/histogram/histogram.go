// Package histogram records values (typically latencies in nanoseconds) in a
// log-linear histogram in the style of HdrHistogram: every power of two is
// split into SubBuckets equal buckets, so a recorded value is known to within
// 1/SubBuckets (0.8%) of itself at any magnitude, in a fixed-size array.
//
// A Histogram is not safe for concurrent use: give each goroutine its own,
// record without locks, and Merge them at the end.
package histogram

import (
	"math"
	"math/bits"
)

const (
	// subBits is log2 of SubBuckets.
	subBits = 7
	// SubBuckets is the number of linear buckets per power of two. Values
	// below it are recorded exactly.
	SubBuckets = 1 << subBits
	// MaxTrackable is the largest value recorded in its own bucket (about
	// 36 minutes in nanoseconds); larger values fall into the last bucket.
	// Max still reports them exactly.
	MaxTrackable = 1<<42 - 1
	// maxExp is the exponent (bit length - 1) of MaxTrackable.
	maxExp = 41
	// numBuckets covers values 0 .. MaxTrackable.
	numBuckets = (maxExp - subBits + 2) * SubBuckets
)

// Histogram counts non-negative values in log-linear buckets. The zero value
// is an empty histogram ready to use.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	sum    float64
	min    uint64
	max    uint64
}

// bucketOf returns the index of the bucket holding v.
func bucketOf(v uint64) int {
	if v < SubBuckets {
		return int(v)
	}
	if v > MaxTrackable {
		v = MaxTrackable
	}
	exp := bits.Len64(v) - 1 // >= subBits
	sub := (v >> uint(exp-subBits)) & (SubBuckets - 1)
	return (exp-subBits+1)*SubBuckets + int(sub)
}

// bucketBounds returns the smallest and largest value bucket i holds.
func bucketBounds(i int) (lo, hi uint64) {
	if i < SubBuckets {
		return uint64(i), uint64(i)
	}
	exp := i/SubBuckets - 1 + subBits
	sub := uint64(i % SubBuckets)
	width := uint64(1) << uint(exp-subBits)
	lo = (1 << uint(exp)) + sub*width
	return lo, lo + width - 1
}

// Record adds one observation of v. Negative values count as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	h.counts[bucketOf(u)]++
	if h.total == 0 || u < h.min {
		h.min = u
	}
	if u > h.max {
		h.max = u
	}
	h.total++
	h.sum += float64(u)
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// Reset empties the histogram.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest observation (0 when empty).
func (h *Histogram) Min() int64 { return int64(h.min) }

// Max returns the largest observation, exactly (0 when empty).
func (h *Histogram) Max() int64 { return int64(h.max) }

// Mean returns the arithmetic mean of the observations (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Quantile returns the value at quantile q in [0, 1]: the largest value of
// the bucket holding the ceil(q*Count())-th smallest observation, clamped to
// [Min, Max]. It overstates the true value by at most 1/SubBuckets of it.
// Quantile(1) is Max; an empty histogram returns 0.
func (h *Histogram) Quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	if math.IsNaN(q) || q <= 0 {
		return int64(h.min)
	}
	if q >= 1 {
		return int64(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if i == numBuckets-1 {
				return int64(h.max) // the overflow bucket: only Max is known
			}
			_, hi := bucketBounds(i)
			return int64(min(max(hi, h.min), h.max))
		}
	}
	return int64(h.max)
}
