package histogram_test

import (
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/internal/histogram"
)

func Example() {
	// One histogram per worker, recorded without locks...
	var w1, w2 histogram.Histogram
	for i := 1; i <= 90; i++ {
		w1.Record(int64(100 * time.Microsecond))
	}
	for i := 1; i <= 10; i++ {
		w2.Record(int64(5 * time.Millisecond))
	}
	// ...merged at the end.
	var all histogram.Histogram
	all.Merge(&w1)
	all.Merge(&w2)
	fmt.Println("count", all.Count())
	fmt.Println("p50", time.Duration(all.Quantile(0.50)).Round(time.Microsecond))
	fmt.Println("p99", time.Duration(all.Quantile(0.99)).Round(time.Microsecond))
	fmt.Println("max", time.Duration(all.Max()))
	// Output:
	// count 100
	// p50 100µs
	// p99 5ms
	// max 5ms
}
