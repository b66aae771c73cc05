package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/loadgen"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// fasthttpTimers are goroutines that outlive a test by design: process-wide
// ones (os/signal's, once bench http has used signal.NotifyContext), and
// fasthttp's pool cleaners that notice a shutdown only when their timer (up
// to 10s) next fires.
var fasthttpTimers = []string{
	"os/signal.loop",
	"fasthttp.updateServerDate",
	"fasthttp.(*TCPDialer).tcpAddrsClean",
	"fasthttp.(*workerPool).Start.func",
	"fasthttp.(*HostClient).connsCleaner",
}

// countGoroutines counts goroutines other than fasthttpTimers.
func countGoroutines() (int, string) {
	buf := make([]byte, 1<<20)
	all := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
	var kept []string
next:
	for _, g := range all {
		for _, skip := range fasthttpTimers {
			if strings.Contains(g, skip) {
				continue next
			}
		}
		kept = append(kept, g)
	}
	return len(kept), strings.Join(kept, "\n\n")
}

// checkGoroutines fails the test if goroutines it started (servers, key
// store refreshes, load workers) are still running shortly after it.
func checkGoroutines(t *testing.T) {
	before, _ := countGoroutines()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, stacks := countGoroutines()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines: %d before, %d after:\n%s", before, n, stacks)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// readReport reads the http.json a run wrote.
func readReport(t *testing.T, dir string) benchReport {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "http.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r benchReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("http.json: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "http.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| target | req/s | vs ceiling |", "| ceiling |", "Command: `jwtgate bench http", "Machine: "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("http.md lacks %q:\n%s", want, md)
		}
	}
	return r
}

// checkResult asserts a result's counters add up and returns its classes by name.
func checkResult(t *testing.T, r *loadgen.Result) map[string]loadgen.ClassResult {
	t.Helper()
	classes := map[string]loadgen.ClassResult{}
	var reqs, unexpected uint64
	for _, c := range r.Classes {
		var answered uint64
		for _, n := range c.Statuses {
			answered += n
		}
		if answered+c.Errors != c.Requests {
			t.Errorf("%s/%s: statuses %v and %d errors do not add up to %d requests", r.Name, c.Name, c.Statuses, c.Errors, c.Requests)
		}
		reqs += c.Requests
		unexpected += c.Unexpected
		classes[c.Name] = c
	}
	if reqs != r.Requests || unexpected != r.Unexpected || r.Requests == 0 {
		t.Errorf("%s: classes add up to %d requests, %d unexpected; result says %d, %d", r.Name, reqs, unexpected, r.Requests, r.Unexpected)
	}
	if r.Errors != 0 {
		t.Errorf("%s: %d transport errors: %v", r.Name, r.Errors, r.ErrorSamples)
	}
	if r.Latency.Count != r.Requests {
		t.Errorf("%s: %d latencies for %d requests", r.Name, r.Latency.Count, r.Requests)
	}
	return classes
}

// TestBenchHTTPInProcess runs the whole harness briefly: ceiling and
// jwtgate with the default mix and a key rotation.
func TestBenchHTTPInProcess(t *testing.T) {
	checkGoroutines(t)
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, "", "bench", "http", "--duration", "300ms", "--warmup", "50ms", "--concurrency", "4",
		"--rotate-at", "150ms", "--distinct", "5", "--cooldown", "10ms", "--alg", "EdDSA", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"ceiling", "jwtgate", "vs ceiling", "p99.9", "of the ceiling's requests/s", `event "rotate key" fired`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	r := readReport(t, out)
	if len(r.Results) != 2 || r.Results[0].Name != "ceiling" || r.Results[1].Name != "jwtgate" {
		t.Fatalf("results %v: want ceiling then jwtgate", r.Results)
	}
	if r.Settings.Mix != defaultMix || r.Settings.Alg != "EdDSA" || r.Settings.RotateAt != 150*time.Millisecond || r.Machine.CPUs == 0 {
		t.Errorf("settings %+v machine %+v", r.Settings, r.Machine)
	}
	ceiling := checkResult(t, r.Results[0])
	for name, c := range ceiling {
		if c.Statuses[200] != c.Requests || c.Unexpected != 0 {
			t.Errorf("ceiling %s: statuses %v, want all 200", name, c.Statuses)
		}
	}
	gate := checkResult(t, r.Results[1])
	if len(gate) != 4 {
		t.Fatalf("jwtgate classes %v, want the four of the default mix", gate)
	}
	for _, name := range []string{classInvalid, classUnknownKid, classExpired} {
		if c := gate[name]; c.Statuses[401] != c.Requests || c.Unexpected != 0 {
			t.Errorf("jwtgate %s: statuses %v, want all 401", name, c.Statuses)
		}
	}
	// Valid tokens are accepted, except those of the new key while jwtgate
	// has not fetched it yet (the cooldown): those are the only unexpected ones.
	valid := gate[classValid]
	if valid.Statuses[200] == 0 || valid.Statuses[200]+valid.Statuses[401] != valid.Requests || valid.Unexpected != valid.Statuses[401] {
		t.Errorf("jwtgate valid: %+v", valid)
	}
	if ev := r.Results[1].Events; len(ev) != 1 || !ev[0].Fired {
		t.Errorf("events %+v: want the rotation fired", ev)
	}
	if r.JWKSFetches < 1 {
		t.Errorf("JWKS fetched %d times, want at least once", r.JWKSFetches)
	}
	want := r.Results[1].RPS / r.Results[0].RPS
	if r.RatioToCeiling != want {
		t.Errorf("ratio %v, want %v", r.RatioToCeiling, want)
	}
	if cpu := float64(r.Results[0].CPUPerRequest()) / float64(r.Results[1].CPUPerRequest()); r.CPURatio != cpu || cpu <= 0 {
		t.Errorf("CPU ratio %v, want %v", r.CPURatio, cpu)
	}
}

// TestBenchHTTPAgainstURL measures a jwtgate server started by the test,
// with tokens signed by a key file: every answer is the expected one.
func TestBenchHTTPAgainstURL(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	priv := filepath.Join(dir, "key.json")
	if code, _, errOut := runCmd(t, "", "keys", "generate", "--alg", "ES256", "--kid", "k1", "--out-private", priv, "--out-jwks", filepath.Join(dir, "jwks.json")); code != exitOK {
		t.Fatalf("keys generate: %s", errOut)
	}
	key, err := readPrivateJWK(priv)
	if err != nil {
		t.Fatal(err)
	}
	idp, err := startJWKSServer(key)
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	gate, err := startJWTGate(context.Background(), "https://idp.example", idp.URL+jwksPath, "api", "ES256", time.Hour, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close()

	out := t.TempDir()
	code, stdout, stderr := runCmd(t, "", "bench", "http", "--url", gate.url, "--key", priv, "--issuer", "https://idp.example", "--audience", "api",
		"--duration", "200ms", "--warmup", "0s", "--rounds", "2", "--concurrency", "3", "--distinct", "3", "--mix", "expired=1, valid=6,invalid=1,unknown_kid=2", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r := readReport(t, out)
	if len(r.Results) != 2 || r.Results[1].Name != "target" || r.Settings.URL != gate.url || r.Settings.Mix != "valid=6,invalid=1,unknown_kid=2,expired=1" {
		t.Fatalf("report %+v", r)
	}
	checkResult(t, r.Results[0])
	target := checkResult(t, r.Results[1])
	if len(r.Rounds) != 2 || r.Settings.Rounds != 2 || !strings.Contains(stdout, "rounds, ceiling/target req/s: ") {
		t.Errorf("rounds %+v: want two, listed in the output", r.Rounds)
	}
	for i, f := range r.Rounds {
		if f.CeilingCPU <= 0 || f.TargetCPU <= 0 {
			t.Errorf("round %d: CPU/req %v/%v, want both measured", i+1, f.CeilingCPU, f.TargetCPU)
		}
	}
	if !strings.Contains(stdout, "; CPU/req ") {
		t.Errorf("no CPU/req per round in the output:\n%s", stdout)
	}
	if r.Results[1].Elapsed < 400*time.Millisecond {
		t.Errorf("merged elapsed %v: want the two rounds' time added", r.Results[1].Elapsed)
	}
	if r.Results[1].Unexpected != 0 {
		t.Fatalf("target got %d unexpected statuses: %+v", r.Results[1].Unexpected, target)
	}
	if c := target[classValid]; c.Statuses[200] != c.Requests {
		t.Errorf("valid: %+v, want all 200", c)
	}
	for _, name := range []string{classInvalid, classUnknownKid, classExpired} {
		if c := target[name]; c.Requests == 0 || c.Statuses[401] != c.Requests {
			t.Errorf("%s: %+v, want all 401", name, c)
		}
	}
}

func TestBenchHTTPUsageErrors(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key.json")
	if code, _, _ := runCmd(t, "", "keys", "generate", "--alg", "HS256", "--out-private", key, "--out-jwks", key+".jwks"); code != exitOK {
		t.Fatal("keys generate failed")
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "Usage: jwtgate bench http"},
		{[]string{"bench", "https"}, `unknown subcommand "https"`},
		{[]string{"bench", "http", "extra"}, `unexpected argument "extra"`},
		{[]string{"bench", "http", "--concurrency", "0"}, "--concurrency must be"},
		{[]string{"bench", "http", "--concurrency", "many"}, "--concurrency"},
		{[]string{"bench", "http", "--duration", "0s"}, "--duration must be positive"},
		{[]string{"bench", "http", "--rounds", "0"}, "--rounds must be"},
		{[]string{"bench", "http", "--rounds", "2", "--rotate-at", "1s"}, "--rotate-at needs --rounds 1"},
		{[]string{"bench", "http", "--warmup", "-1s"}, "--warmup"},
		{[]string{"bench", "http", "--duration", "5s", "--rotate-at", "5s"}, "--rotate-at must be"},
		{[]string{"bench", "http", "--distinct", "0"}, "--distinct"},
		{[]string{"bench", "http", "--cooldown", "0s"}, "--cooldown must be positive"},
		{[]string{"bench", "http", "--timeout", "0s"}, "--timeout"},
		{[]string{"bench", "http", "--mix", "valid=90,bogus=10"}, `--mix: unknown class "bogus"`},
		{[]string{"bench", "http", "--mix", "valid=90,valid=10"}, `--mix: class "valid" given twice`},
		{[]string{"bench", "http", "--mix", "valid=-1"}, "--mix: weight of valid"},
		{[]string{"bench", "http", "--mix", "valid"}, `--mix: "valid" is not CLASS=WEIGHT`},
		{[]string{"bench", "http", "--mix", "valid=0,expired=0"}, "--mix: no class has a positive weight"},
		{[]string{"bench", "http", "--alg", "HS1"}, `--alg: unknown algorithm "HS1"`},
		{[]string{"bench", "http", "--key", key}, "--key applies only with --url"},
		{[]string{"bench", "http", "--issuer", "x"}, "--issuer applies only with --url"},
		{[]string{"bench", "http", "--url", "http://127.0.0.1:1/auth"}, "--url needs --key"},
		{[]string{"bench", "http", "--url", "http://127.0.0.1:1/auth", "--key", key, "--rotate-at", "1s"}, "--rotate-at needs jwtgate"},
		{[]string{"bench", "http", "--url", "http://127.0.0.1:1/auth", "--key", key, "--alg", "ES256"}, "--alg applies only without --url"},
		{[]string{"bench", "http", "--url", "http://127.0.0.1:1/auth", "--key", key + ".missing"}, "--key " + key + ".missing"},
		{[]string{"bench", "http", "--out", filepath.Join(key, "sub")}, "--out " + filepath.Join(key, "sub")},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(t, "", c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
	code, out, _ := runCmd(t, "", "bench", "http", "--help")
	if code != exitOK || !strings.Contains(out, "--rotate-at") || !strings.Contains(out, "ceiling") {
		t.Errorf("bench http --help: exit %d\n%s", code, out)
	}
}

func TestParseMix(t *testing.T) {
	mix, err := parseMix(" expired=2 ,valid=90,unknown_kid=0,invalid=5,")
	if err != nil {
		t.Fatal(err)
	}
	if got := formatMix(mix); got != "valid=90,invalid=5,expired=2" {
		t.Fatalf("mix %q, want the canonical order without zero weights", got)
	}
	if _, err := parseMix(""); err == nil {
		t.Fatal("an empty mix must be an error")
	}
	if _, err := parseMix("valid=1000001"); err == nil {
		t.Fatal("a huge weight must be an error")
	}
}

// TestCorruptSignature checks that a corrupted token stays well-formed and
// fails on its signature, for every algorithm.
func TestCorruptSignature(t *testing.T) {
	for _, alg := range engine.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			key := sign.MustGenerate(alg, "k")
			unknown := sign.MustGenerate(alg, "u")
			pub, err := key.EngineKey()
			if err != nil {
				t.Fatal(err)
			}
			set, err := makeTokens(key, unknown, tokenSpec{issuer: "iss", audience: "aud", distinct: 3, lifetime: time.Hour}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			v, err := engine.New(engine.Config{Keys: lookupOne{pub}, Issuers: []string{"iss"}, Audiences: []string{"aud"}})
			if err != nil {
				t.Fatal(err)
			}
			var tok engine.Token
			wantErr := map[string]error{classValid: nil, classInvalid: engine.ErrBadSignature, classUnknownKid: engine.ErrUnknownKid, classExpired: engine.ErrExpired}
			for class, want := range wantErr {
				if len(set[class]) != 3 {
					t.Fatalf("%s: %d tokens, want 3", class, len(set[class]))
				}
				for _, b := range set[class] {
					if err := v.Verify(b, &tok); !errors.Is(err, want) && !(want == nil && err == nil) {
						t.Errorf("%s token: %v, want %v", class, err, want)
					}
				}
			}
		})
	}
}

// lookupOne is a KeyLookup of one key, matched by kid.
type lookupOne struct{ key *engine.Key }

func (l lookupOne) LookupKey(_, kid []byte, _ engine.Alg) (*engine.Key, error) {
	if string(kid) == l.key.Kid() {
		return l.key, nil
	}
	return nil, engine.ErrUnknownKid
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"jwtgate", "bench", "http", "--mix", "valid=1", "--url", "http://x/a b", "", "it's"})
	want := `jwtgate bench http --mix valid=1 --url 'http://x/a b' '' 'it'\''s'`
	if got != want {
		t.Fatalf("commandLine = %s, want %s", got, want)
	}
}

// TestVerdictCPUExcess: the verdict gives jwtgate's CPU time per request over
// the ceiling's, more or less, against the target of at most 1µs more.
func TestVerdictCPUExcess(t *testing.T) {
	for _, c := range []struct {
		ceiling, jwtgate time.Duration
		want             string
	}{
		{10 * time.Microsecond, 12500 * time.Nanosecond, "(12.5µs against 10.0µs: 2.50µs more) (target ≤ 1.00µs more: NOT met)"},
		{10 * time.Microsecond, 10800 * time.Nanosecond, "(10.8µs against 10.0µs: 800ns more) (target ≤ 1.00µs more: met)"},
		{10 * time.Microsecond, 9700 * time.Nanosecond, "(9.70µs against 10.0µs: 300ns less) (target ≤ 1.00µs more: met)"},
	} {
		const n = 1000
		r := &benchReport{Results: []*loadgen.Result{
			{Name: "ceiling", Requests: n, CPU: n * c.ceiling},
			{Name: "jwtgate", Requests: n, CPU: n * c.jwtgate},
		}}
		r.CPURatio = float64(c.ceiling) / float64(c.jwtgate)
		if got := r.verdict(); !strings.Contains(got, c.want) {
			t.Errorf("verdict %q, want it to contain %q", got, c.want)
		}
	}
}
