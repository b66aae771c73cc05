package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// BenchmarkVerifyRatio runs what BenchmarkVerify compares — jwtgate's full
// verify (token cache off) and the bare primitive on the same token — in
// alternating rounds of 256 operations, and reports the median of the
// rounds' time ratios (ratio, jwtgate over floor) beside each side's
// average (jwtgate-ns/op, floor-ns/op; ns/op is their sum). Other processes
// on a shared machine slow neighbouring rounds alike, so the ratio moves
// far less than the times of two separate benchmarks do.
func BenchmarkVerifyRatio(b *testing.B) {
	for _, alg := range engine.Algorithms() {
		b.Run("alg="+alg.String(), func(b *testing.B) {
			f := newFixture(b, alg, nil)
			tok := f.token(b, accessClaims())
			raw := []byte(tok)
			check := floorVerifier(b, f, tok)
			var res engine.Token
			const round = 256
			var ratios []float64
			var mine, floor time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(round, b.N-done)
				t0 := time.Now()
				for range n {
					if err := f.v.Verify(raw, &res); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				for range n {
					if !check() {
						b.Fatal("floor rejected the token")
					}
				}
				t2 := time.Now()
				ratios = append(ratios, float64(t1.Sub(t0))/float64(t2.Sub(t1)))
				mine, floor, done = mine+t1.Sub(t0), floor+t2.Sub(t1), done+n
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "ratio")
			b.ReportMetric(float64(mine.Nanoseconds())/float64(b.N), "jwtgate-ns/op")
			b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
		})
	}
}
