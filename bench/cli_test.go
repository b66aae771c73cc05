package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRatioOf(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want string
	}{
		{[]float64{3, 1, 2}, "2.0 (1.0–3.0)"},
		{[]float64{4, 1, 2, 3}, "2.5 (1.0–4.0)"},
		{[]float64{7}, "7.0 (7.0–7.0)"},
		{nil, "0.0 (0.0–0.0)"},
	} {
		in := append([]float64(nil), c.v...)
		if got := ratioOf(c.v).Format("%.1f"); got != c.want {
			t.Errorf("ratioOf(%v) = %q, want %q", in, got, c.want)
		}
		for i := range in {
			if c.v[i] != in[i] {
				t.Errorf("ratioOf reordered its input: %v, was %v", c.v, in)
			}
		}
	}
}

// cliSamples makes one sample per round from wall and CPU milliseconds.
func cliSamples(ms ...[2]int) []CLISample {
	var s []CLISample
	for _, x := range ms {
		s = append(s, CLISample{Wall: time.Duration(x[0]) * time.Millisecond, CPU: time.Duration(x[1]) * time.Millisecond, RSSKiB: 10 << 10})
	}
	return s
}

func TestCLIRatiosAreRoundByRound(t *testing.T) {
	// The ratios pair each round's two runs: jwtgate's slow round 2 and
	// golang-jwt's slow round 3 never meet.
	c := CLICase{Alg: "HS256", Tokens: 10, Programs: []CLIProgram{
		{Name: CLIJWTGate, Samples: cliSamples([2]int{10, 20}, [2]int{40, 20}, [2]int{10, 10})},
		{Name: CLIGolangJWT, Samples: cliSamples([2]int{80, 80}, [2]int{80, 80}, [2]int{160, 80})},
	}}
	wall, cpu := c.Ratios()
	if want := (Ratio{Median: 8, Min: 2, Max: 16}); wall != want {
		t.Errorf("wall ratio %+v, want %+v", wall, want)
	}
	if want := (Ratio{Median: 4, Min: 4, Max: 8}); cpu != want {
		t.Errorf("CPU ratio %+v, want %+v", cpu, want)
	}
}

func TestWriteCLIReport(t *testing.T) {
	r := &CLIResult{
		Date: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), CPUs: 2, GOMAXPROCS: 2, Platform: "linux/amd64",
		GoVersion: "go1.26.8", Rounds: 2, RSSSource: "GNU time",
		Cases: []CLICase{{Alg: "RS256", Tokens: 3000, Programs: []CLIProgram{
			{Name: CLIJWTGate, Samples: cliSamples([2]int{60, 100}, [2]int{80, 110})},
			{Name: CLIGolangJWT, Samples: cliSamples([2]int{120, 120}, [2]int{120, 121})},
		}}},
	}
	var b bytes.Buffer
	if err := WriteCLIReport(&b, r, "cd bench && go run ./cmd/clibench"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2026-11-30, 2 CPUs (GOMAXPROCS 2), linux/amd64, go1.26.8; 2 alternating rounds",
		"Made by `cd bench && go run ./cmd/clibench`.",
		"| RS256 (3000) | jwtgate | 0.070 s (0.060 s–0.080 s) | 0.105 s (0.100 s–0.110 s) | 10 MiB (10 MiB–10 MiB) |",
		"| RS256 (3000) | golang-jwt | 0.120 s (0.120 s–0.120 s) | 0.120 s (0.120 s–0.121 s) |",
		"| RS256 (3000) | 1.75× (1.50×–2.00×) | 1.15× (1.10×–1.20×) |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Quick mode") {
		t.Error("a full run is labelled quick")
	}
	r.Quick = true
	b.Reset()
	if err := WriteCLIReport(&b, r, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Quick mode") || strings.Contains(b.String(), "Made by") {
		t.Errorf("quick report without a command:\n%s", b.String())
	}
	if err := WriteCLIReport(&b, &CLIResult{}, ""); err == nil {
		t.Error("a report with no case written")
	}
}
