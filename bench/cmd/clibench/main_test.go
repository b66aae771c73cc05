package main

import "testing"

func TestSpreadOf(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want string
	}{
		{[]float64{3, 1, 2}, "2.0 (1.0–3.0)"},
		{[]float64{4, 1, 2, 3}, "2.5 (1.0–4.0)"},
		{[]float64{7}, "7.0 (7.0–7.0)"},
	} {
		in := append([]float64(nil), c.v...)
		if got := spreadOf(c.v, "%.1f"); got != c.want {
			t.Errorf("spreadOf(%v) = %q, want %q", in, got, c.want)
		}
		for i := range in {
			if c.v[i] != in[i] {
				t.Errorf("spreadOf reordered its input: %v, was %v", c.v, in)
			}
		}
	}
}
