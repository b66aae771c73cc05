package server

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStripedCountsExact: adds from many goroutines at once, each on a
// stack of its own (so on different shards), are all counted: the counter,
// every histogram bucket, the sum, and the counter the page shows.
func TestStripedCountsExact(t *testing.T) {
	m := newServerMetrics()
	c := m.stripedCounter(requestsName(endpointAuth, 200, "ok"))
	if c != m.authOK {
		t.Fatal("the same sample name gave another striped counter")
	}
	const goroutines, each = 16, 1000
	durations := []time.Duration{50, 100, 101, 3 * time.Microsecond, 10 * time.Second}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var deep func(n int)
			deep = func(n int) { // vary the stack depth, and so the shard
				if n > 0 {
					deep(n - 1)
					return
				}
				for i := 0; i < each; i++ {
					c.Inc()
					m.verify.observe(durations[i%len(durations)])
				}
			}
			deep(g * 50)
		}()
	}
	wg.Wait()
	if got := c.Load(); got != goroutines*each {
		t.Errorf("counter: %d, want %d", got, goroutines*each)
	}
	used := 0
	for i := range c.shards {
		if c.shards[i].n.Load() != 0 {
			used++
		}
	}
	if used < 2 {
		t.Errorf("%d goroutines added to %d of %d shards: the shard hint does not spread them", goroutines, used, len(c.shards))
	}
	var sum time.Duration
	for _, d := range durations {
		sum += d
	}
	sum *= goroutines * each / time.Duration(len(durations))
	if got := m.verify.sum(); got != sum {
		t.Errorf("sum: %v, want %v", got, sum)
	}
	per := uint64(goroutines * each / len(durations))
	want := map[int]uint64{}
	for _, d := range durations {
		i := 0
		for i < len(m.verify.bounds) && d > m.verify.bounds[i] {
			i++
		}
		want[i] += per
	}
	for i := 0; i <= len(m.verify.bounds); i++ {
		if got := m.verify.count(i); got != want[i] {
			t.Errorf("bucket %d: %d, want %d", i, got, want[i])
		}
	}
	var page bytes.Buffer
	m.writeMetrics(&page)
	for _, line := range []string{
		fmt.Sprintf(`jwtgate_requests_total{endpoint="auth",outcome="allow",reason="ok"} %d`, goroutines*each),
		fmt.Sprintf(`jwtgate_verify_duration_seconds_bucket{le="1e-07"} %d`, 2*per),
		fmt.Sprintf(`jwtgate_verify_duration_seconds_bucket{le="+Inf"} %d`, goroutines*each),
		fmt.Sprintf(`jwtgate_verify_duration_seconds_count %d`, goroutines*each),
	} {
		if !strings.Contains(page.String(), line+"\n") {
			t.Errorf("the page lacks %q", line)
		}
	}
}
