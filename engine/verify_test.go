package engine_test

import (
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

func TestVerifyAllAlgorithms(t *testing.T) {
	for _, alg := range engine.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			f := newFixture(t, alg, nil)
			tok := f.token(t, accessClaims())
			var res engine.Token
			if err := f.v.VerifyString(tok, &res); err != nil {
				t.Fatalf("valid token rejected: %v", err)
			}
			if got := string(res.Claims.Subject); got != "user-1234567890" {
				t.Errorf("sub = %q", got)
			}
			if res.Header.Alg != alg || res.Key() != f.key {
				t.Errorf("alg %v key %p, want %v %p", res.Header.Alg, res.Key(), alg, f.key)
			}
			allocs := testing.AllocsPerRun(50, func() {
				if err := f.v.VerifyString(tok, &res); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%v allocs/op %.0f", alg, allocs)
		})
	}
}
