package engine

import (
	"runtime"
	"testing"
)

// TestEntryClassesAreWhatTheAllocatorReserves measures, with the allocator's
// own statistics, what an entry of each class really takes: exactly the
// size the class counts against the byte budget. A class that does not
// match a Go size class, or a malloc header not accounted for, would make
// the cache keep more than it counts.
func TestEntryClassesAreWhatTheAllocatorReserves(t *testing.T) {
	const perClass = 64
	keep := make([]*cacheEntry, perClass)
	for i, class := range entryClasses {
		if i > 0 && class.size <= entryClasses[i-1].size {
			t.Fatalf("class %d (%d bytes) is not larger than the one before", i, class.size)
		}
		if _, data := class.alloc(); int64(len(data)) != class.size-mallocHeader-int64(entryHead) {
			t.Fatalf("class of %d bytes has %d bytes for the entry's, want %d", class.size, len(data), class.size-mallocHeader-int64(entryHead))
		}
		got := int64(-1)
		for try := 0; try < 3 && got != class.size; try++ { // a background allocation can land in between
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for k := range keep {
				keep[k], _ = class.alloc()
			}
			runtime.ReadMemStats(&after)
			got = int64(after.TotalAlloc-before.TotalAlloc) / perClass
		}
		if got != class.size {
			t.Errorf("an entry of the %d-byte class takes %d bytes", class.size, got)
		}
	}
	runtime.KeepAlive(keep)
}

// TestAllocEntryCountsLargeEntries checks the entries too large for every
// class: the struct and the bytes, each as the allocator reserves it.
func TestAllocEntryCountsLargeEntries(t *testing.T) {
	largest := entryClasses[len(entryClasses)-1]
	for _, n := range []int{int(largest.size) - mallocHeader - int(entryHead), int(largest.size), 100 << 10} {
		e, data, size := allocEntry(n)
		if len(data) != n {
			t.Fatalf("allocEntry(%d) gave %d bytes", n, len(data))
		}
		want := largest.size
		if n > int(largest.size)-mallocHeader-int(entryHead) {
			want = entryStructBytes + allocSize(n)
			if e.ext == nil {
				t.Fatalf("allocEntry(%d): a large entry's bytes are not its own allocation", n)
			}
		}
		if size != want {
			t.Errorf("allocEntry(%d) counts %d bytes, want %d", n, size, want)
		}
	}
}
