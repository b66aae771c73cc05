package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/bench"
)

func readTestdata(t *testing.T) *measurements {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "raw.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := parseResults(f, "raw.txt")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseResults(t *testing.T) {
	m := readTestdata(t)
	if got, want := strings.Join(m.algs, " "), "RS256 HS256"; got != want {
		t.Errorf("algs %q, want %q", got, want)
	}
	if got, want := strings.Join(m.libs, " "), "jwtgate golang-jwt stdlib"; got != want {
		t.Errorf("libs %q, want %q (BenchmarkOther must be ignored)", got, want)
	}
	s, ok := m.summarize("RS256", "golang-jwt")
	if !ok {
		t.Fatal("RS256 golang-jwt missing")
	}
	want := summary{n: 3, ns: 33000, spread: (35000 - 30000) / 2.0 / 33000, bytes: 4936, allocs: 79}
	if s.n != want.n || s.ns != want.ns || math.Abs(s.spread-want.spread) > 1e-12 || s.bytes != want.bytes || s.allocs != want.allocs {
		t.Errorf("summary %+v, want %+v", s, want)
	}
	if s, _ := m.summarize("HS256", "golang-jwt"); s.allocs != 74 {
		t.Errorf("median allocs %v, want 74", s.allocs)
	}
	if _, ok := m.summarize("ES256", "jwtgate"); ok {
		t.Error("summary for an unmeasured combination")
	}
}

func TestParseResultsRejects(t *testing.T) {
	for name, input := range map[string]string{
		"empty":        "",
		"no verify":    "BenchmarkOther-2 100 5 ns/op\n",
		"syntax error": "BenchmarkVerify/alg=RS256/lib=x-2 100 five ns/op\n",
		"no lib key":   "BenchmarkVerify/alg=RS256-2 100 5 ns/op\n",
	} {
		if _, err := parseResults(strings.NewReader(input), name); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), c.in...)
		if got := median(in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("median reordered its input %v", c.in)
			}
		}
	}
}

func TestFormat(t *testing.T) {
	for ns, want := range map[float64]string{98.73: "98.7 ns", 945.1: "945 ns", 6232: "6.23 µs", 24555: "24.6 µs", 1.5e6: "1.50 ms", 5: "5.00 ns"} {
		if got := formatNs(ns); got != want {
			t.Errorf("formatNs(%v) = %q, want %q", ns, got, want)
		}
	}
	if got := ratio(50, 100, true); got != "0.50×" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(1, 200, true); got != "0.005×" {
		t.Errorf("small ratio = %q", got)
	}
	if got := ratio(1, 0, false); got != "–" {
		t.Errorf("ratio without reference = %q", got)
	}
}

func TestWriteReport(t *testing.T) {
	m := readTestdata(t)
	var buf bytes.Buffer
	err := writeReport(&buf, m, reportInfo{
		command: "cd bench && go run ./cmd/benchreport -count 3",
		goTest:  "go test -run='^$' -bench='^BenchmarkVerify$' -benchmem -count=1 .",
		rounds:  3,
		chart:   "verify.svg",
		machine: machine{date: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), cpu: "Test CPU", cores: 2, goVer: "go1.26.8",
			modules: []moduleVersion{{"golang-jwt", "github.com/golang-jwt/jwt/v5", "v5.3.1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"| RS256 | 25.0 µs | 33.0 µs | 20.5 µs |", // summary: medians, measured libraries as columns
		// jwtgate RS256: 25000 / 33000 and / 20500.
		"| **jwtgate** | 25.0 µs | 4% | 1376 | 9 | 0.76× | 1.22× |",
		"| golang-jwt | 6.00 µs | 9% | 3688 | 74 | 1.00× | 19.67× |",
		"| stdlib | 305 ns | 2% | 0 | 0 | 0.051× | 1.00× |",
		"![wall time per verification (ns/op) per algorithm and library, log scale](verify.svg)",
		"`cd bench && go run ./cmd/benchreport -count 3`",
		"3 rounds of `go test",
		"| CPU | Test CPU, 2 logical cores |",
		"| Go | go1.26.8 |",
		"| date | 2026-11-25 09:00 UTC |",
		"| golang-jwt | github.com/golang-jwt/jwt/v5 | v5.3.1 |",
		"jwtgate allocates no more than the bare primitive",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "%!") {
		t.Error("report has a formatting error")
	}
	if strings.Contains(md, "Quick mode") {
		t.Error("a full run is labelled quick")
	}
}

// TestWriteReportCPU checks that runs reporting cpu-ns/op are compared by
// CPU time, with wall time shown beside it.
func TestWriteReportCPU(t *testing.T) {
	raw := "BenchmarkVerify/alg=HS256/lib=jwtgate-2 10 9000 ns/op 1000 cpu-ns/op 0 B/op 0 allocs/op\n" +
		"BenchmarkVerify/alg=HS256/lib=jwtgate-2 10 1000 ns/op 1100 cpu-ns/op 0 B/op 0 allocs/op\n" +
		"BenchmarkVerify/alg=HS256/lib=jwtgate-2 10 1200 ns/op 900 cpu-ns/op 0 B/op 0 allocs/op\n" +
		"BenchmarkVerify/alg=HS256/lib=golang-jwt-2 10 4000 ns/op 8000 cpu-ns/op 3688 B/op 74 allocs/op\n" +
		"BenchmarkVerify/alg=HS256/lib=stdlib-2 10 300 ns/op 400 cpu-ns/op 0 B/op 0 allocs/op\n"
	m, err := parseResults(strings.NewReader(raw), "raw")
	if err != nil {
		t.Fatal(err)
	}
	if !m.hasCPU() {
		t.Fatal("hasCPU is false")
	}
	var buf bytes.Buffer
	if err := writeReport(&buf, m, reportInfo{rounds: 3, chart: "verify.svg"}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"| library | CPU ns/op | ± | wall ns/op | ± | B/op | allocs/op | vs golang-jwt | vs stdlib |",
		// CPU median 1000 (spread 100/1000), wall median 1200 (spread 4000/1200); ratios of CPU: 1000/8000, 1000/400.
		"| **jwtgate** | 1.00 µs | 10% | 1.20 µs | 333% | 0 | 0 | 0.12× | 2.50× |",
		"| golang-jwt | 8.00 µs | 0% | 4.00 µs | 0% | 3688 | 74 | 1.00× | 20.00× |",
		"| HS256 | 1.00 µs | 8.00 µs | 400 ns |",
		"Why CPU time",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := buildChart(m, "cpu"); err != nil {
		t.Fatal(err)
	}
}

func TestAllocNoteFlagsRegression(t *testing.T) {
	raw := "BenchmarkVerify/alg=HS256/lib=jwtgate-2 10 900 ns/op 16 B/op 1 allocs/op\n" +
		"BenchmarkVerify/alg=HS256/lib=stdlib-2 10 300 ns/op 0 B/op 0 allocs/op\n"
	m, err := parseResults(strings.NewReader(raw), "raw")
	if err != nil {
		t.Fatal(err)
	}
	if got := allocNote(m); !strings.Contains(got, "allocates more than the bare primitive") || !strings.Contains(got, "HS256 (1 vs 0 allocs/op)") {
		t.Errorf("allocNote = %q", got)
	}
}

func TestChart(t *testing.T) {
	m := readTestdata(t)
	p, err := buildChart(m, "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	svg, png := filepath.Join(dir, "c.svg"), filepath.Join(dir, "c.png")
	if err := saveChart(p, svg, png); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("golang-jwt")) || !bytes.Contains(b, []byte("HS256")) {
		t.Error("SVG lacks the svg element, a legend entry or an algorithm label")
	}
	b, err = os.ReadFile(png)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Error("PNG file is not a PNG")
	}
}

func TestDecadeTicks(t *testing.T) {
	ticks := decadeTicks{}.Ticks(10, 2e5)
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got, want := strings.Join(labels, ","), "10 ns,100 ns,1 µs,10 µs,100 µs"; got != want {
		t.Errorf("labels %q, want %q", got, want)
	}
}

func TestCPUModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpuinfo")
	data := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Test @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := cpuModel(path), "Intel(R) Xeon(R) Test @ 2.20GHz"; got != want {
		t.Errorf("cpuModel = %q, want %q", got, want)
	}
	if got := cpuModel(filepath.Join(t.TempDir(), "missing")); got != "unknown" {
		t.Errorf("cpuModel of a missing file = %q", got)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-count", "0"}, {"extra"}, {"-nope"}, {"-http", "-1s"}, {"-http-conns", "0"}, {"-http-rounds", "0"}, {"-cli-rounds", "-1"}, {"-cli-hs256", "-1"}, {"-cli-hs256", "0", "-cli-rs256", "0"}} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

// TestQuickRun runs the whole harness in quick mode: it compiles and runs
// every comparison benchmark once (100 iterations) and a short HTTP
// comparison, then writes every result file.
func TestQuickRun(t *testing.T) {
	out := t.TempDir()
	if err := run([]string{"-quick", "-out", out, "-http", "300ms", "-http-conns", "4", "-cli-rounds", "3"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"raw.txt", "benchstat.txt", "RESULTS.md", "verify.svg", "verify.png", "http.md", "http.json", "http.svg", "http.png", "cli.md", "cli.json"} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v (missing or empty)", name, err)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("Quick mode")) {
		t.Error("quick results are not labelled as such")
	}
	for _, lib := range []string{"jwtgate", "jwtgate-cached", "golang-jwt", "jwx", "go-jose", "stdlib"} {
		if !bytes.Contains(md, []byte("| "+lib+" |")) && !bytes.Contains(md, []byte("| **"+lib+"** |")) {
			t.Errorf("RESULTS.md has no row for %s", lib)
		}
	}
	stat, err := os.ReadFile(filepath.Join(out, "benchstat.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(stat, []byte("golang-jwt")) || !bytes.Contains(stat, []byte("sec/op")) {
		t.Errorf("benchstat.txt does not compare against golang-jwt:\n%s", stat)
	}
	httpMD, err := os.ReadFile(filepath.Join(out, "http.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ceiling |", "| **jwtgate** |", "| golang-jwt |", "| oauth2-proxy |", "jwtgate ÷ oauth2-proxy", "Quick mode"} {
		if !bytes.Contains(httpMD, []byte(want)) {
			t.Errorf("http.md lacks %q", want)
		}
	}
	cliMD, err := os.ReadFile(filepath.Join(out, "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Quick mode", "1 alternating rounds", "| HS256 (2000) | jwtgate |", "| RS256 (200) | golang-jwt |", "| RS256 (200) | "} {
		if !bytes.Contains(cliMD, []byte(want)) {
			t.Errorf("cli.md lacks %q:\n%s", want, cliMD)
		}
	}
	for _, want := range []string{"## Side by side", "| library, in process (", "| HTTP forward-auth, ", "`jwtgate verify --summary`, HS256 |", "`jwtgate verify --summary`, RS256 |"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
	// -report-only rebuilds from the same raw.txt without running, the
	// command-line comparison's ratios taken from cli.json.
	if err := run([]string{"-report-only", "-out", out}); err != nil {
		t.Fatal(err)
	}
	md, err = os.ReadFile(filepath.Join(out, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("`jwtgate verify --summary`, RS256 |")) || !bytes.Contains(md, []byte("| HTTP forward-auth (requests/s) | not run |")) {
		t.Errorf("-report-only's side-by-side section:\n%s", md[bytes.Index(md, []byte("## Side by side")):])
	}
}

func TestSideBySide(t *testing.T) {
	m, err := parseResults(strings.NewReader(`BenchmarkVerify/alg=RS256/lib=jwtgate-2 10 20000 ns/op
BenchmarkVerify/alg=RS256/lib=golang-jwt-2 10 50000 ns/op
BenchmarkVerify/alg=HS256/lib=jwtgate-2 10 300 ns/op
BenchmarkVerify/alg=HS256/lib=golang-jwt-2 10 2400 ns/op
BenchmarkVerify/alg=ES256/lib=golang-jwt-2 10 2400 ns/op
`), "raw")
	if err != nil {
		t.Fatal(err)
	}
	cli := &bench.CLIResult{Rounds: 3, Cases: []bench.CLICase{{Alg: "HS256", Tokens: 50000, Programs: []bench.CLIProgram{
		{Name: bench.CLIJWTGate, Samples: []bench.CLISample{{Wall: 50e6, CPU: 60e6}, {Wall: 40e6, CPU: 50e6}, {Wall: 100e6, CPU: 50e6}}},
		{Name: bench.CLIGolangJWT, Samples: []bench.CLISample{{Wall: 400e6, CPU: 400e6}, {Wall: 400e6, CPU: 400e6}, {Wall: 400e6, CPU: 400e6}}},
	}}}}
	for _, c := range []struct {
		name string
		http []*httpResult
		cli  *bench.CLIResult
		want []string
		not  []string
	}{
		{
			name: "all three",
			http: []*httpResult{{target: "ceiling", rps: 90000}, {target: "jwtgate", rps: 60000}, {target: "golang-jwt", rps: 20000}},
			cli:  cli,
			want: []string{
				"| library, in process (wall time per verification) | RS256 | 2.50× |",
				"| library, in process (wall time per verification) | HS256 | 8.00× |",
				"| HTTP forward-auth, RS256 token mix (median requests/s) | jwtgate | 3.00× |",
				"| command line, whole process, 50000 distinct tokens (wall, median of 3 rounds) | `jwtgate verify --summary`, HS256 | 8.00× |",
				"| command line, whole process, 50000 distinct tokens (CPU, median of 3 rounds) | `jwtgate verify --summary`, HS256 | 8.00× |",
			},
			not: []string{"| ES256 |", "| ceiling |", "not run"},
		},
		{
			name: "library only",
			want: []string{"| HTTP forward-auth (requests/s) | not run | `-http 10s` |", "| command line, whole process | not run | `-cli-rounds 15` |"},
		},
	} {
		var b bytes.Buffer
		writeSideBySide(&b, m, c.http, c.cli)
		for _, want := range c.want {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s: lacks %q:\n%s", c.name, want, b.String())
			}
		}
		for _, not := range c.not {
			if strings.Contains(b.String(), not) {
				t.Errorf("%s: has %q:\n%s", c.name, not, b.String())
			}
		}
	}
}

// TestMetaRoundTrip checks that the facts written at the top of raw.txt come
// back with the results, so -report-only reports the run that made the file.
func TestMetaRoundTrip(t *testing.T) {
	in := reportInfo{
		command:   "cd bench && go run ./cmd/benchreport -count 2",
		goTest:    "go test -run='^$' -bench='^BenchmarkVerify$' -benchmem -count=1 .",
		benchtime: "500ms",
		machine: machine{
			date: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), cpu: "Test CPU  @ 2.2GHz", cores: 2,
			goVer: "go1.26.8", kernel: "6.1.0", commit: "abc1234 (with uncommitted changes)", load: "1.5 before, 2.0 after",
		},
	}
	var raw bytes.Buffer
	if err := writeMeta(&raw, in); err != nil {
		t.Fatal(err)
	}
	raw.WriteString("BenchmarkVerify/alg=HS256/lib=jwtgate-2 10 900 ns/op\nBenchmarkVerify/alg=HS256/lib=jwtgate-2 10 950 ns/op\n")
	m, err := parseResults(&raw, "raw")
	if err != nil {
		t.Fatal(err)
	}
	got, err := infoFromMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.rounds = 2
	want.machine.cpu = "Test CPU @ 2.2GHz" // one line, single spaces
	if got.command != want.command || got.goTest != want.goTest || got.benchtime != want.benchtime || got.quick ||
		got.rounds != want.rounds || !got.machine.date.Equal(want.machine.date) || got.machine.cpu != want.machine.cpu ||
		got.machine.cores != 2 || got.machine.goVer != want.machine.goVer || got.machine.kernel != want.machine.kernel ||
		got.machine.commit != want.machine.commit || got.machine.load != want.machine.load {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}

	m, err = parseResults(strings.NewReader("BenchmarkVerify/alg=HS256/lib=jwtgate-2 10 900 ns/op\n"), "plain")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infoFromMeta(m); err == nil {
		t.Error("plain go test output accepted as benchreport's")
	}
}
