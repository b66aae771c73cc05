package histogram

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketBoundsContainValue(t *testing.T) {
	check := func(v uint64) {
		t.Helper()
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, numBuckets)
		}
		lo, hi := bucketBounds(i)
		if v > MaxTrackable {
			if i != numBuckets-1 {
				t.Fatalf("bucketOf(%d) = %d, want the last bucket %d", v, i, numBuckets-1)
			}
			return
		}
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
		}
		if hi-lo > lo/SubBuckets {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/%d of its lower bound", i, lo, hi, SubBuckets)
		}
	}
	for v := uint64(0); v < 1<<16; v++ {
		check(v)
	}
	for e := 16; e < 64; e++ {
		base := uint64(1) << uint(e)
		check(base - 1)
		check(base)
		check(base + 1)
	}
	check(math.MaxUint64)
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(r.Uint64() >> r.UintN(64))
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	_, prevHi := bucketBounds(0)
	for i := 1; i < numBuckets; i++ {
		lo, hi := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		prevHi = hi
	}
	if prevHi != MaxTrackable {
		t.Fatalf("last bucket ends at %d, want MaxTrackable %d", prevHi, uint64(MaxTrackable))
	}
}

func TestQuantileWithinRelativeError(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h Histogram
	values := make([]int64, 0, 50000)
	for range cap(values) {
		// Log-normal-ish latencies from 1µs to ~100ms, like a real run.
		v := int64(math.Exp(r.NormFloat64()*1.5 + 12))
		values = append(values, v)
		h.Record(v)
	}
	slices.Sort(values)
	for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999} {
		rank := int(math.Ceil(q*float64(len(values)))) - 1
		exact := values[rank]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/SubBuckets {
			t.Errorf("Quantile(%v) = %d, exact %d: outside [exact, exact*(1+1/%d)]", q, got, exact, SubBuckets)
		}
	}
	if h.Quantile(1) != values[len(values)-1] || h.Max() != values[len(values)-1] {
		t.Errorf("Quantile(1) = %d, Max = %d, want %d", h.Quantile(1), h.Max(), values[len(values)-1])
	}
	if h.Quantile(0) != values[0] || h.Min() != values[0] {
		t.Errorf("Quantile(0) = %d, Min = %d, want %d", h.Quantile(0), h.Min(), values[0])
	}
	if h.Count() != uint64(len(values)) {
		t.Errorf("Count = %d, want %d", h.Count(), len(values))
	}
}

func TestSmallValuesAreExact(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	if got := h.Quantile(0.5); got != 50 {
		t.Errorf("p50 of 1..100 = %d, want 50", got)
	}
	if got := h.Quantile(0.99); got != 99 {
		t.Errorf("p99 of 1..100 = %d, want 99", got)
	}
	if got := h.Mean(); got != 50.5 {
		t.Errorf("mean of 1..100 = %v, want 50.5", got)
	}
}

func TestMergeEqualsRecordingEverything(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var all, a, b, empty Histogram
	for i := range 20000 {
		v := int64(r.Uint64N(1 << 30))
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var merged Histogram
	merged.Merge(&empty)
	merged.Merge(&a)
	merged.Merge(&b)
	merged.Merge(&empty)
	if merged.counts != all.counts || merged.total != all.total || merged.min != all.min || merged.max != all.max {
		t.Fatalf("merged histogram differs from one that recorded every value")
	}
	if math.Abs(merged.Mean()-all.Mean()) > 1e-6*all.Mean() {
		t.Fatalf("merged mean %v, want %v", merged.Mean(), all.Mean())
	}
}

func TestEdgeValues(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	h.Record(-5)
	if h.Min() != 0 || h.Max() != 0 || h.Count() != 1 {
		t.Fatalf("negative value: min %d max %d count %d, want 0 0 1", h.Min(), h.Max(), h.Count())
	}
	huge := int64(math.MaxInt64)
	h.Record(huge)
	if h.Max() != huge || h.Quantile(1) != huge {
		t.Fatalf("Max = %d, Quantile(1) = %d, want %d", h.Max(), h.Quantile(1), huge)
	}
	if got := h.Quantile(0.99); got != huge {
		t.Fatalf("p99 with the top value beyond MaxTrackable = %d, want it clamped to Max %d", got, huge)
	}
	if got := h.Quantile(math.NaN()); got != 0 {
		t.Fatalf("Quantile(NaN) = %d, want Min 0", got)
	}
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 {
		t.Fatal("Reset must empty the histogram")
	}
}

func TestRecordAllocs(t *testing.T) {
	h := new(Histogram)
	var v int64
	allocs := testing.AllocsPerRun(1000, func() {
		v += 997
		h.Record(v)
	})
	if allocs != 0 {
		t.Fatalf("Record allocates %v times, want 0", allocs)
	}
}

func BenchmarkRecord(b *testing.B) {
	h := new(Histogram)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(int64(i) * 7919)
	}
}
