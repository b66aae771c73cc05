package loadgen

import (
	"sync/atomic"

	"github.com/jwtgate/jwtgate/internal/histogram"
)

// workerStats is what one worker records. Only its worker writes it during a
// run (done is also read by the progress reporter), so recording takes no
// lock; the results are merged when the workers have stopped.
type workerStats struct {
	hist    histogram.Histogram
	classes []classStats
	errs    errorSamples
	done    atomic.Uint64 // requests completed, for progress lines
	_       [56]byte      // keep done off the next worker's cache line
}

// classStats counts one class's answers at one worker.
type classStats struct {
	statuses   statusCounts
	errors     uint64 // transport errors: no answer
	unexpected uint64 // answers with another status than expected
	nextToken  uint64
}

// statusCounts counts answers by status code: a short inline list (a class
// sees one or two codes) and a map for the rare others.
type statusCounts struct {
	codes  [6]int32
	counts [6]uint64
	n      int
	more   map[int]uint64
}

func (s *statusCounts) add(code int) {
	for i := 0; i < s.n; i++ {
		if s.codes[i] == int32(code) {
			s.counts[i]++
			return
		}
	}
	if s.n < len(s.codes) {
		s.codes[s.n], s.counts[s.n] = int32(code), 1
		s.n++
		return
	}
	if s.more == nil {
		s.more = map[int]uint64{}
	}
	s.more[code]++
}

// addTo adds the counts to m.
func (s *statusCounts) addTo(m map[int]uint64) {
	for i := 0; i < s.n; i++ {
		m[int(s.codes[i])] += s.counts[i]
	}
	for code, n := range s.more {
		m[code] += n
	}
}

// maxErrorSamples bounds the distinct error messages kept per worker.
const maxErrorSamples = 8

// errorSamples counts transport errors by message, keeping a few distinct ones.
type errorSamples struct {
	counts map[string]uint64
	other  uint64
}

func (e *errorSamples) add(err error) {
	msg := err.Error()
	if e.counts == nil {
		e.counts = map[string]uint64{}
	}
	if _, ok := e.counts[msg]; ok || len(e.counts) < maxErrorSamples {
		e.counts[msg]++
		return
	}
	e.other++
}
