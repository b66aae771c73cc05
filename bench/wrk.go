package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// The wrk comparison is the measurement of issue 15: `jwtgate serve` and the
// bare fasthttp ceiling (cmd/ceiling, which serves loadgen.StartCeiling's
// server) each run as a process of their own, wrk, a third process, drives
// them in turn with the same requests, and each server's CPU time is read
// from /proc, so that the CPU per request is the server's alone. `jwtgate
// bench http` runs its load generator and both servers in one process: its
// CPU per request adds the generator's work, including parsing jwtgate's
// larger answers, to the server's. RunWrk checks that jwtgate answers
// correctly before anything is timed, warms both servers up, then runs
// rounds that alternate which server goes first, because a shared machine's
// load drifts; WriteWrkReport reports every round, the medians and the
// verdict against the targets.

// Servers of the wrk comparison, in the order of WrkResult.Servers.
const (
	WrkCeiling = "ceiling"
	WrkJWTGate = "jwtgate"
)

// The load of issue 15: wrk with two threads and 64 connections, cycling
// the tokens of 1,024 users.
const (
	WrkThreads = 2
	WrkConns   = 64
	WrkUsers   = 1024
)

// The targets of issue 15 for jwtgate's cached path against the ceiling, on
// the same machine and load, measured in one run.
const (
	// WrkTargetShare is the least share of the ceiling's requests/s that
	// jwtgate must serve.
	WrkTargetShare = 0.90
	// WrkTargetExtraCPU is the most CPU time per request that jwtgate may
	// spend beyond the ceiling's.
	WrkTargetExtraCPU = time.Microsecond
)

// wrkAlg is the algorithm of the tokens: what most identity providers sign
// access tokens with.
var wrkAlg = engine.RS256

// wrkTimeout is wrk's --timeout: an answer later than this counts as a
// socket error (a timeout), which fails the run. On a busy machine the
// slowest answers take tens of milliseconds; a server that stops answering
// is still caught.
const wrkTimeout = 10 * time.Second

// wrkHangMargin is how long a wrk run may take beyond its duration (wrk
// starts its threads and connections first and stops them after) before it
// is killed as hung.
const wrkHangMargin = 30 * time.Second

// startLimit bounds how long a server may take to start and become ready.
const startLimit = 30 * time.Second

// WrkConfig configures RunWrk.
type WrkConfig struct {
	// Dir is the bench module's directory; jwtgate's module is its parent.
	Dir string
	// JWTGate is the jwtgate binary to measure; empty builds ./cmd/jwtgate
	// of the parent module.
	JWTGate string
	// Wrk is the wrk binary; empty looks for "wrk" on $PATH.
	Wrk string
	// Rounds is how many rounds run, each measuring both servers (at least
	// 1).
	Rounds int
	// Duration is how long wrk drives each server per round, in whole
	// seconds (wrk's unit), at least one.
	Duration time.Duration
	// Warmup is how long wrk drives each server once before the rounds, in
	// whole seconds; 0 skips it.
	Warmup time.Duration
	// Threads and Conns are wrk's -t and -c (Conns at least Threads).
	Threads, Conns int
	// Users is how many distinct valid tokens (subjects user1, user2, ...)
	// the requests cycle through.
	Users int
	// Quick marks a run that only proves the harness works; it builds
	// without -trimpath, from the build cache.
	Quick bool
	// Keep keeps the working folder (binaries, keys, tokens and wrk
	// script).
	Keep bool
	// Progress receives a line per round; nil discards them.
	Progress io.Writer

	// hangMargin replaces wrkHangMargin when positive.
	hangMargin time.Duration
}

// WrkSample is what wrk and /proc measured of one server in one round.
type WrkSample struct {
	// Requests is how many answers wrk received; every one was 2xx.
	Requests int64 `json:"requests"`
	// RPS is wrk's requests/s.
	RPS float64 `json:"rps"`
	// CPU is the user + system time the server's process spent during the
	// run, from /proc/PID/stat (10 ms resolution).
	CPU time.Duration `json:"cpu_ns"`
	// P50 and P99 are wrk's latency percentiles.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
}

// CPUPerRequest returns the server's CPU time per request in nanoseconds.
func (s WrkSample) CPUPerRequest() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.CPU) / float64(s.Requests)
}

// WrkServer is one server's samples, one per round.
type WrkServer struct {
	Name    string      `json:"name"`
	Samples []WrkSample `json:"samples"`
}

// WrkResult is a whole wrk comparison.
type WrkResult struct {
	Date      time.Time `json:"date"`
	CPUs      int       `json:"cpus"`
	Platform  string    `json:"platform"` // GOOS/GOARCH
	GoVersion string    `json:"go"`
	// WrkVersion is the first line of `wrk -v`, without its copyright.
	WrkVersion string `json:"wrk"`
	// Load is the 1-minute load average before and after the run.
	Load     string        `json:"load"`
	Rounds   int           `json:"rounds"`
	Duration time.Duration `json:"duration_ns"`
	Warmup   time.Duration `json:"warmup_ns"`
	Threads  int           `json:"threads"`
	Conns    int           `json:"conns"`
	Users    int           `json:"users"`
	Alg      string        `json:"alg"`
	Quick    bool          `json:"quick"`
	// Servers are WrkCeiling, then WrkJWTGate.
	Servers []WrkServer `json:"servers"`
}

// Compare returns, over the rounds, jwtgate's requests/s as a share of the
// ceiling's (0.9 is 90%) and the CPU time per request jwtgate spent beyond
// the ceiling's, in nanoseconds: each round's figures pair the two servers'
// runs of that round.
func (r *WrkResult) Compare() (share, extraCPU Ratio) {
	if len(r.Servers) != 2 {
		return Ratio{}, Ratio{}
	}
	c, g := r.Servers[0].Samples, r.Servers[1].Samples
	n := min(len(c), len(g))
	s := make([]float64, n)
	d := make([]float64, n)
	for i := range n {
		s[i] = g[i].RPS / max(c[i].RPS, 1e-9)
		d[i] = g[i].CPUPerRequest() - c[i].CPUPerRequest()
	}
	return ratioOf(s), ratioOf(d)
}

// Verdict reports whether the medians of Compare meet the targets:
// WrkTargetShare of the ceiling's requests/s and at most WrkTargetExtraCPU
// more CPU per request.
func (r *WrkResult) Verdict() (shareMet, cpuMet bool) {
	share, extra := r.Compare()
	return share.Median >= WrkTargetShare, extra.Median <= float64(WrkTargetExtraCPU)
}

// RunWrk runs the wrk comparison.
func RunWrk(cfg WrkConfig) (*WrkResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("wrk comparison: each server's CPU time is read from /proc, which %s does not have: run it on Linux", runtime.GOOS)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "cmd", "ceiling")); err != nil {
		return nil, fmt.Errorf("wrk comparison: %q is not the bench module's directory (run it from jwtgate's bench/): %w", cfg.Dir, err)
	}
	wrkName := cfg.Wrk
	if wrkName == "" {
		wrkName = "wrk"
	}
	wrkBin, err := exec.LookPath(wrkName)
	if err != nil {
		return nil, fmt.Errorf("wrk comparison: %w (install wrk: apt-get install wrk)", err)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	margin := wrkHangMargin
	if cfg.hangMargin > 0 {
		margin = cfg.hangMargin
	}
	version, err := wrkVersion(wrkBin)
	if err != nil {
		return nil, err
	}

	tmp, err := os.MkdirTemp("", "jwtgate-wrkbench-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		fmt.Fprintf(progress, "wrk comparison: working folder %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	jwtgate := cfg.JWTGate
	if jwtgate == "" {
		jwtgate = filepath.Join(tmp, "jwtgate")
		fmt.Fprintln(progress, "wrk comparison: building jwtgate")
		if err := goBuild(filepath.Join(cfg.Dir, ".."), jwtgate, "./cmd/jwtgate", !cfg.Quick); err != nil {
			return nil, err
		}
	}
	ceiling := filepath.Join(tmp, "ceiling")
	fmt.Fprintln(progress, "wrk comparison: building the ceiling")
	if err := goBuild(cfg.Dir, ceiling, "./cmd/ceiling", !cfg.Quick); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "wrk comparison: signing %d %s tokens\n", cfg.Users, wrkAlg)
	files, err := writeWrkFiles(tmp, cfg.Users)
	if err != nil {
		return nil, err
	}

	ceil, err := startChild(WrkCeiling, []string{ceiling}, firstLineAddr)
	if err != nil {
		return nil, err
	}
	defer ceil.stop()
	gate, err := startChild(WrkJWTGate, []string{jwtgate, "serve",
		"--jwks-file", files.jwks, "--issuer", Issuer, "--audience", Audience,
		"--listen", "127.0.0.1:0", "--log-format", "json"}, jwtgateListenAddr)
	if err != nil {
		return nil, err
	}
	defer gate.stop()
	if err := gate.waitReady(startLimit); err != nil {
		return nil, err
	}
	if err := checkWrkServers(ceil.url, gate.url, files); err != nil {
		return nil, err
	}

	res := &WrkResult{
		Date: time.Now().UTC(), CPUs: runtime.NumCPU(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(),
		WrkVersion: version, Rounds: cfg.Rounds, Duration: cfg.Duration, Warmup: cfg.Warmup,
		Threads: cfg.Threads, Conns: cfg.Conns, Users: cfg.Users, Alg: wrkAlg.String(), Quick: cfg.Quick,
		Servers: []WrkServer{{Name: WrkCeiling}, {Name: WrkJWTGate}},
	}
	servers := []*child{ceil, gate}
	load := LoadAverage()
	run := func(c *child, d time.Duration) (wrkOutput, error) {
		argv := []string{wrkBin, "-t", fmt.Sprint(cfg.Threads), "-c", fmt.Sprint(cfg.Conns), "-d", wrkSeconds(d),
			"--latency", "--timeout", wrkSeconds(wrkTimeout), "-s", files.script, c.url + "/auth", "--", files.tokens}
		out, err := runWrkOnce(argv, d+margin)
		if err == nil && !c.alive() {
			err = errors.New("the server exited during the run")
		}
		if err != nil {
			return out, fmt.Errorf("wrk comparison, %s: %w%s", c.name, err, c.outputNote())
		}
		return out, nil
	}
	if cfg.Warmup > 0 {
		for _, c := range servers {
			fmt.Fprintf(progress, "wrk comparison: warming %s up for %s\n", c.name, cfg.Warmup)
			if _, err := run(c, cfg.Warmup); err != nil {
				return nil, err
			}
		}
	}
	for r := range cfg.Rounds {
		for i := range servers {
			p := i
			if r%2 == 1 {
				p = len(servers) - 1 - i // alternate who goes first
			}
			c := servers[p]
			before, err := serverCPU(c.pid())
			if err != nil {
				return nil, err
			}
			out, err := run(c, cfg.Duration)
			if err != nil {
				return nil, err
			}
			after, err := serverCPU(c.pid())
			if err != nil {
				return nil, err
			}
			res.Servers[p].Samples = append(res.Servers[p].Samples, WrkSample{
				Requests: out.requests, RPS: out.rps, CPU: after - before, P50: out.p50, P99: out.p99,
			})
		}
		ce, ga := res.Servers[0].Samples[r], res.Servers[1].Samples[r]
		fmt.Fprintf(progress, "wrk comparison: round %d/%d: ceiling %.0f req/s, %.2f µs CPU/req; jwtgate %.0f req/s (%.1f%%), %.2f µs CPU/req (%+.2f µs)\n",
			r+1, cfg.Rounds, ce.RPS, ce.CPUPerRequest()/1e3, ga.RPS, 100*ga.RPS/max(ce.RPS, 1e-9),
			ga.CPUPerRequest()/1e3, (ga.CPUPerRequest()-ce.CPUPerRequest())/1e3)
	}
	res.Load = fmt.Sprintf("%s before, %s after", load, LoadAverage())
	for _, c := range servers {
		if err := c.stop(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// validate checks the settings and names the one to fix.
func (cfg *WrkConfig) validate() error {
	wholeSeconds := func(d time.Duration) bool { return d%time.Second == 0 }
	switch {
	case cfg.Rounds < 1:
		return fmt.Errorf("wrk comparison: %d rounds: want at least 1", cfg.Rounds)
	case cfg.Duration < time.Second || !wholeSeconds(cfg.Duration):
		return fmt.Errorf("wrk comparison: duration %s: want whole seconds, at least 1s (wrk's unit)", cfg.Duration)
	case cfg.Warmup < 0 || !wholeSeconds(cfg.Warmup):
		return fmt.Errorf("wrk comparison: warm-up %s: want whole seconds, or 0 for none (wrk's unit)", cfg.Warmup)
	case cfg.Threads < 1 || cfg.Conns < cfg.Threads:
		return fmt.Errorf("wrk comparison: %d threads and %d connections: want at least 1 thread and a connection per thread", cfg.Threads, cfg.Conns)
	case cfg.Users < 1:
		return fmt.Errorf("wrk comparison: %d users: want at least 1", cfg.Users)
	}
	return nil
}

// wrkSeconds formats d, whole seconds, as wrk reads a time: "5s".
func wrkSeconds(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) }

// wrkVersion returns the first line wrk -v prints (wrk exits 1 after it).
func wrkVersion(bin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-v")
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = time.Second
	out, _ := cmd.CombinedOutput() // the exit status is 1 even when it works
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if !strings.HasPrefix(line, "wrk ") {
		return "", fmt.Errorf("wrk comparison: %s -v printed %q, not wrk's version (is %s wrk?)", bin, out, bin)
	}
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimSpace(line), nil
}

// runWrkOnce runs wrk with argv, killing it after limit, and returns what
// it measured once its output shows every answer 2xx and no socket error.
func runWrkOnce(argv []string, limit time.Duration) (wrkOutput, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = time.Second
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return wrkOutput{}, fmt.Errorf("wrk did not finish within %s, so it was killed: %s\n%s%s", limit, strings.Join(argv, " "), stdout.Bytes(), stderr.Bytes())
	}
	if err != nil {
		return wrkOutput{}, fmt.Errorf("%s: %w\n%s%s", strings.Join(argv, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	out, err := parseWrk(stdout.String())
	if err == nil {
		err = out.check()
	}
	if err != nil {
		return out, fmt.Errorf("%s: %w\n%s%s", strings.Join(argv, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return out, nil
}

// wrkFiles are the working files of a run.
type wrkFiles struct {
	jwks   string // the public JWKS jwtgate serve reads
	tokens string // one valid token per line; the token of line i has sub "user<i>"
	script string // the wrk script that cycles them
	// valid are the tokens of the tokens file; corrupted is the first one
	// with its signature changed.
	valid     []string
	corrupted string
}

// wrkScript is the wrk script: each thread reads the token file named after
// "--" on wrk's command line, formats one request per token once, and sends
// them in turn with the token as a bearer token.
const wrkScript = `-- jwtgate bench (bench/wrk.go): cycle the tokens of the file named after
-- "--" on wrk's command line as bearer tokens, one request per token,
-- formatted once.
local requests = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("GET", nil, {["Authorization"] = "Bearer " .. line})
    end
  end
  if #requests == 0 then
    error("no tokens in " .. tostring(args[1]))
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
`

// writeWrkFiles generates a key, its JWKS file, the file of users distinct
// valid tokens and the wrk script in dir.
func writeWrkFiles(dir string, users int) (*wrkFiles, error) {
	key, err := sign.Generate(wrkAlg, "wrk-"+strings.ToLower(wrkAlg.String()))
	if err != nil {
		return nil, err
	}
	f := &wrkFiles{
		jwks:   filepath.Join(dir, "jwks.json"),
		tokens: filepath.Join(dir, "tokens.txt"),
		script: filepath.Join(dir, "tokens.lua"),
	}
	now := time.Now()
	var buf bytes.Buffer
	for i := 1; i <= users; i++ {
		tok, err := key.Sign(map[string]any{
			"iss": Issuer, "aud": Audience, "sub": fmt.Sprint("user", i), "scope": "read write",
			"iat": now.Unix(), "exp": now.Add(Lifetime).Unix(),
		})
		if err != nil {
			return nil, err
		}
		f.valid = append(f.valid, tok)
		buf.WriteString(tok)
		buf.WriteByte('\n')
	}
	f.corrupted, err = tamperSignature(f.valid[0])
	if err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{f.jwks: sign.JWKS(key), f.tokens: buf.Bytes(), f.script: []byte(wrkScript)} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// checkWrkServers checks, before anything is timed, that jwtgate verifies
// what wrk will send: 200 with the token's subject in HeaderSubject for
// every valid token, 401 for one with a corrupted signature and for a
// request without a token; and that the ceiling answers 200. The error
// lists every wrong answer.
func checkWrkServers(ceilingURL, jwtgateURL string, f *wrkFiles) error {
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var wrong []error
	check := func(server, url, name, token string, want int, sub string) {
		if len(wrong) >= 10 {
			return // enough to see what is wrong
		}
		req, err := http.NewRequest(http.MethodGet, url+"/auth", nil)
		if err != nil {
			wrong = append(wrong, err)
			return
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			wrong = append(wrong, fmt.Errorf("%s, %s: %w", server, name, err))
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get(HeaderSubject); resp.StatusCode != want || got != sub {
			wrong = append(wrong, fmt.Errorf("%s, %s: status %d, %s %q; want %d and %q", server, name, resp.StatusCode, HeaderSubject, got, want, sub))
		}
	}
	check(WrkCeiling, ceilingURL, "a valid token", f.valid[0], http.StatusOK, "")
	for i, tok := range f.valid {
		sub := fmt.Sprint("user", i+1)
		check(WrkJWTGate, jwtgateURL, "the token of "+sub, tok, http.StatusOK, sub)
	}
	check(WrkJWTGate, jwtgateURL, "a corrupted signature", f.corrupted, http.StatusUnauthorized, "")
	check(WrkJWTGate, jwtgateURL, "no token", "", http.StatusUnauthorized, "")
	if len(wrong) > 0 {
		return fmt.Errorf("wrk comparison: the servers answer wrongly, so their figures would not be comparable:\n%w", errors.Join(wrong...))
	}
	return nil
}

// LoadAverage returns the 1-minute load average from /proc/loadavg ("?" if
// unknown): above the core count, other work competed with a benchmark.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
