package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseWrk reads real wrk 4.1 reports (testdata/wrk): runs against the
// ceiling and jwtgate with --latency, against jwtgate without a token (every
// answer 401), against a server that closes every connection (0 requests,
// read errors), against one that answers 503 and closes connections, and
// against one whose answers sometimes come after --timeout.
func TestParseWrk(t *testing.T) {
	for _, c := range []struct {
		file  string
		want  wrkOutput
		fails []string // what check must name; none for a run to keep
	}{
		{"ceiling.txt", wrkOutput{requests: 130111, rps: 118362.35, p50: 416 * time.Microsecond, p99: 1630 * time.Microsecond}, nil},
		{"jwtgate.txt", wrkOutput{requests: 79760, rps: 72618.88, p50: 655 * time.Microsecond, p99: 7950 * time.Microsecond}, nil},
		{"non2xx.txt", wrkOutput{requests: 109161, rps: 108957.79, non2xx: 109161, p50: 483 * time.Microsecond, p99: 2740 * time.Microsecond},
			[]string{"109161 of 109161 answers were not 2xx"}},
		{"socket-errors.txt", wrkOutput{requests: 0, rps: 0, read: 31330},
			[]string{"no request was answered", "31330 socket errors (connect 0, read 31330, write 0, timeout 0)"}},
		{"non2xx-socket-errors.txt", wrkOutput{requests: 59301, rps: 53845.29, non2xx: 59301, read: 19762},
			[]string{"59301 of 59301 answers were not 2xx", "19762 socket errors (connect 0, read 19762, write 0, timeout 0)"}},
		{"timeouts.txt", wrkOutput{requests: 304524, rps: 101351.61, timeout: 2, p50: 40 * time.Microsecond, p99: 1840 * time.Microsecond},
			[]string{"2 socket errors (connect 0, read 0, write 0, timeout 2)"}},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "wrk", c.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseWrk(string(b))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: parsed %+v, want %+v", c.file, got, c.want)
		}
		err = got.check()
		if len(c.fails) == 0 {
			if err != nil {
				t.Errorf("%s: check = %v, want nil", c.file, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: check passed a run that must fail", c.file)
			continue
		}
		for _, want := range c.fails {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: check = %q, want it to name %q", c.file, err, want)
			}
		}
	}
}

// TestParseWrkRefusesOtherOutput checks that output without wrk's figures
// (wrk's usage text, a connection refusal, nothing) is an error, and that a
// latency in seconds is read.
func TestParseWrkRefusesOtherOutput(t *testing.T) {
	for _, s := range []string{
		"",
		"unable to connect to 127.0.0.1:1 Connection refused\n",
		"Usage: wrk <options> <url>\n  Options:\n    -c, --connections <N>  Connections to keep open\n",
		"  100 requests in 1.00s, 1.00MB read\n", // no Requests/sec
		"Requests/sec: 100.00\n",                 // no count
	} {
		if o, err := parseWrk(s); err == nil {
			t.Errorf("parseWrk(%q) = %+v, want an error", s, o)
		}
	}
	o, err := parseWrk("  Latency Distribution\n     50%    1.02s\n     99%    2.00m\n  3 requests in 4.00s, 1.00KB read\nRequests/sec:      0.75\n")
	if err != nil || o.p50 != 1020*time.Millisecond || o.p99 != 2*time.Minute || o.requests != 3 || o.rps != 0.75 {
		t.Errorf("parseWrk = %+v, %v; want p50 1.02s, p99 2m, 3 requests, 0.75/s", o, err)
	}
}

// wrkSamples makes a round's sample per pair of requests/s and CPU
// microseconds per request (5 s runs).
func wrkSamples(runs ...[2]float64) []WrkSample {
	var s []WrkSample
	for _, r := range runs {
		n := int64(r[0] * 5)
		s = append(s, WrkSample{Requests: n, RPS: r[0], CPU: time.Duration(r[1] * 1e3 * float64(n)), P50: time.Millisecond, P99: 3 * time.Millisecond})
	}
	return s
}

func wrkResult(ceiling, jwtgate []WrkSample) *WrkResult {
	return &WrkResult{
		Date: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), CPUs: 2, Platform: "linux/amd64", GoVersion: "go1.26.8",
		WrkVersion: "wrk debian/4.1.0-3+b2 [epoll]", Load: "0.10 before, 1.90 after", Rounds: len(ceiling),
		Duration: 5 * time.Second, Warmup: time.Second, Threads: 2, Conns: 64, Users: 1024, Alg: "RS256",
		Servers: []WrkServer{{Name: WrkCeiling, Samples: ceiling}, {Name: WrkJWTGate, Samples: jwtgate}},
	}
}

// TestWrkCompareIsRoundByRound checks that the share and the difference
// pair each round's two runs: a round slow for both servers moves neither.
func TestWrkCompareIsRoundByRound(t *testing.T) {
	r := wrkResult(
		wrkSamples([2]float64{100000, 7}, [2]float64{50000, 7}, [2]float64{100000, 8}),
		wrkSamples([2]float64{92000, 8}, [2]float64{45000, 7.5}, [2]float64{80000, 10}),
	)
	share, extra := r.Compare()
	if want := (Ratio{Median: 0.9, Min: 0.8, Max: 0.92}); !near(share, want) {
		t.Errorf("share %+v, want %+v", share, want)
	}
	if want := (Ratio{Median: 1000, Min: 500, Max: 2000}); !near(extra, want) {
		t.Errorf("extra CPU %+v, want %+v", extra, want)
	}
	if shareMet, cpuMet := r.Verdict(); !shareMet || !cpuMet {
		t.Errorf("Verdict = %v, %v; want both met at exactly 90%% and +1.00 µs", shareMet, cpuMet)
	}
}

func near(a, b Ratio) bool {
	close := func(x, y float64) bool { return x-y < 1e-6 && y-x < 1e-6 }
	return close(a.Median, b.Median) && close(a.Min, b.Min) && close(a.Max, b.Max)
}

func TestWriteWrkReport(t *testing.T) {
	r := wrkResult(
		wrkSamples([2]float64{111859, 7.2}, [2]float64{110000, 7.4}),
		wrkSamples([2]float64{99100, 8.8}, [2]float64{96000, 9.0}),
	)
	var b bytes.Buffer
	if err := WriteWrkReport(&b, r, "cd bench && go run ./cmd/wrkbench"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2026-11-30 12:00 UTC, 2 CPUs, linux/amd64, go1.26.8, wrk debian/4.1.0-3+b2 [epoll]; load average (1 min) 0.10 before, 1.90 after.",
		"`wrk -t2 -c64 -d5s --latency --timeout 10s -s tokens.lua URL/auth`",
		"1024 distinct valid RS256 tokens",
		"Each server is warmed up for 1s, then 2 rounds alternate",
		"Made by `cd bench && go run ./cmd/wrkbench`.",
		"| 1 | 111859 | 99100 | 88.6% | 7.20 µs | 8.80 µs | +1.60 µs | 3ms | 3ms |",
		"| 2 | 110000 | 96000 | 87.3% | 7.40 µs | 9.00 µs | +1.60 µs |",
		"| **median** | 110930 | 97550 | **87.9%** (87.3–88.6%) | 7.30 µs | 8.90 µs | **+1.60 µs** (+1.60 to +1.60) |",
		"**Verdict**: jwtgate served 87.9% of the ceiling's requests/s (target ≥ 90%: missed) and its CPU per request was the ceiling's +1.60 µs (8.90 µs against 7.30 µs; target ≤ +1.00 µs: missed).",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Quick mode") {
		t.Error("a full run is labelled quick")
	}

	r = wrkResult(wrkSamples([2]float64{100000, 7.2}), wrkSamples([2]float64{95000, 7.9}))
	r.Quick, r.Warmup = true, 0
	b.Reset()
	if err := WriteWrkReport(&b, r, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Quick mode", " 1 round alternate", "95.0% of the ceiling's requests/s (target ≥ 90%: met)", "+0.70 µs (7.90 µs against 7.20 µs; target ≤ +1.00 µs: met)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("quick report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Made by") || strings.Contains(b.String(), "warmed up") {
		t.Errorf("report without a command or warm-up mentions them:\n%s", b.String())
	}

	r.Servers[1].Samples = nil
	if err := WriteWrkReport(&b, r, ""); err == nil {
		t.Error("a report with an incomplete round written")
	}
	if err := WriteWrkReport(&b, &WrkResult{}, ""); err == nil {
		t.Error("a report with no round written")
	}
}

// TestCheckWrkServers checks the correctness check against loopback servers
// that stand in for jwtgate: one that verifies passes; one that accepts
// every token, one that leaves out the subject, one that answers the
// subject of another token, and a ceiling that refuses all fail.
func TestCheckWrkServers(t *testing.T) {
	dir := t.TempDir()
	files, err := writeWrkFiles(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]string{}
	for i, tok := range files.valid {
		subjects["Bearer "+tok] = fmt.Sprint("user", i+1)
	}
	serve := func(h func(w http.ResponseWriter, sub string, known bool)) string {
		srv, err := StartHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sub, known := subjects[r.Header.Get("Authorization")]
			h(w, sub, known)
		}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv.URL
	}
	verifies := serve(func(w http.ResponseWriter, sub string, known bool) {
		if !known {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set(HeaderSubject, sub)
	})
	ceiling := serve(func(http.ResponseWriter, string, bool) {})
	if err := checkWrkServers(ceiling, verifies, files); err != nil {
		t.Fatalf("a verifying server fails the check: %v", err)
	}
	for name, c := range map[string]struct {
		ceiling, jwtgate string
		want             string
	}{
		"accepts everything": {ceiling, serve(func(w http.ResponseWriter, sub string, known bool) {}), "a corrupted signature: status 200"},
		"no subject": {ceiling, serve(func(w http.ResponseWriter, sub string, known bool) {
			if !known {
				w.WriteHeader(http.StatusUnauthorized)
			}
		}), `the token of user1: status 200, X-Auth-Subject ""; want 200 and "user1"`},
		"another subject": {ceiling, serve(func(w http.ResponseWriter, sub string, known bool) {
			if !known {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set(HeaderSubject, "user1")
		}), `the token of user2: status 200, X-Auth-Subject "user1"; want 200 and "user2"`},
		"ceiling refuses": {serve(func(w http.ResponseWriter, sub string, known bool) { w.WriteHeader(http.StatusForbidden) }), verifies,
			"ceiling, a valid token: status 403"},
	} {
		err := checkWrkServers(c.ceiling, c.jwtgate, files)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: checkWrkServers = %v, want an error naming %q", name, err, c.want)
		}
	}
}

// TestListenAddr checks how the servers' addresses are read from their
// output.
func TestListenAddr(t *testing.T) {
	for _, c := range []struct {
		read func(string) (string, bool)
		line string
		want string
	}{
		{firstLineAddr, "127.0.0.1:38439", "127.0.0.1:38439"},
		{firstLineAddr, "127.0.0.1:38439\r", "127.0.0.1:38439"},
		{firstLineAddr, "0.0.0.0:80", ""},
		{firstLineAddr, "ceiling: listen tcp: address in use", ""},
		{jwtgateListenAddr, `{"time":"2026-11-30T19:36:47.939256429Z","level":"INFO","msg":"jwtgate serving","listen":"127.0.0.1:38175","issuers":1,"ready":true}`, "127.0.0.1:38175"},
		{jwtgateListenAddr, `{"time":"2026-11-30T19:36:47.939012821Z","level":"INFO","msg":"keystore: key set updated","issuer":"https://issuer.test","keys":1}`, ""},
		{jwtgateListenAddr, `time=2026-11-30T19:36:47Z level=INFO msg="jwtgate serving" listen=127.0.0.1:38175`, ""},
	} {
		got, ok := c.read(c.line)
		if ok != (c.want != "") || (ok && got != c.want) {
			t.Errorf("reading %q: %q, %v; want %q", c.line, got, ok, c.want)
		}
	}
}

// TestLineWriter checks that lines split across writes are found, that the
// scan stops at the first line accepted, and that everything is kept.
func TestLineWriter(t *testing.T) {
	kept := &boundedBuffer{max: 1 << 10}
	var lines []string
	w := &lineWriter{kept: kept, onLine: func(l string) bool {
		lines = append(lines, l)
		return l == "two"
	}}
	for _, p := range []string{"on", "e\ntw", "o\nthree\n", "four\n"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if strings.Join(lines, ",") != "one,two" {
		t.Errorf("lines %q, want one and two", lines)
	}
	if kept.String() != "one\ntwo\nthree\nfour" {
		t.Errorf("kept %q", kept.String())
	}
}
