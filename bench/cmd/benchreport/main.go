// Command benchreport runs jwtgate's in-process comparison benchmarks
// (BenchmarkVerify in the bench module: jwtgate, golang-jwt, jwx, go-jose and
// the bare standard-library primitive on identical tokens) and writes the
// results folder: raw.txt (the go test output), benchstat.txt, RESULTS.md
// (a table per algorithm with the ratios against golang-jwt and against the
// primitive) and verify.svg / verify.png (grouped bars of ns/op). With
// -http it adds the HTTP comparison (http.md), with -cli-rounds the
// command-line comparison (cli.md, bench.RunCLI), and RESULTS.md ends with
// the three comparisons' ratios side by side. With -wrk-rounds it adds the
// wrk comparison (wrk.md, bench.RunWrk), RESULTS.md's last section.
//
// Run it from the bench module:
//
//	cd bench && go run ./cmd/benchreport            # 6 rounds into results/
//	cd bench && go run ./cmd/benchreport -quick     # one short round into a temporary folder
//	cd bench && go run ./cmd/benchreport -report-only   # redo the report from results/raw.txt
//	cd bench && go run ./cmd/benchreport -http 10s      # and the HTTP comparison (http.md, http.json)
//	cd bench && go run ./cmd/benchreport -cli-rounds 15 # and the command-line comparison (cli.md, cli.json)
//	cd bench && go run ./cmd/benchreport -wrk-rounds 5  # and the wrk comparison (wrk.md, wrk.json)
//
// Progress goes to standard error.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/bench"
)

// modulePath is the module benchreport must run in.
const modulePath = "github.com/jwtgate/jwtgate/bench"

// benchstatColumns compares every library with golang-jwt, in report order.
func benchstatColumns() string {
	names := []string{bench.BaselineLib}
	for _, l := range bench.Libs {
		if l.Name != bench.BaselineLib {
			names = append(names, l.Name)
		}
	}
	return "/lib@(" + strings.Join(names, " ") + ")"
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	count := fs.Int("count", 6, "rounds: how many times every benchmark runs (benchstat wants at least 6)")
	benchtime := fs.String("benchtime", "", "`duration` (1s) or iteration count (100x) of each benchmark run; empty for go test's default of 1s")
	quick := fs.Bool("quick", false, "one round of -benchtime=100x, into a temporary folder unless -out is set: proves the harness runs (for CI)")
	out := fs.String("out", "", "results `folder` (default results/ in the bench module)")
	reportOnly := fs.Bool("report-only", false, "do not run the in-process benchmarks: rebuild benchstat.txt, RESULTS.md and the chart from the folder's raw.txt (-http still runs the HTTP comparison)")
	httpDur := fs.Duration("http", 0, "also run the HTTP comparison, measuring each server this long (e.g. 10s) into http.md and http.json; 0 skips it")
	httpConns := fs.Int("http-conns", 32, "connections of the HTTP comparison's load generator")
	httpRounds := fs.Int("http-rounds", 3, "rounds of the HTTP comparison, each measuring every server in turn")
	var cc cliConfig
	fs.IntVar(&cc.rounds, "cli-rounds", 0, "also run the command-line comparison (`jwtgate verify` against a golang-jwt program, whole processes) for this many alternating rounds into cli.md and cli.json; 0 skips it (-quick: one round of few tokens)")
	fs.IntVar(&cc.hs256, "cli-hs256", 50000, "distinct HS256 tokens of the command-line comparison")
	fs.IntVar(&cc.rs256, "cli-rs256", 3000, "distinct RS256 tokens of the command-line comparison")
	var wc wrkConfig
	fs.IntVar(&wc.rounds, "wrk-rounds", 0, "also run the wrk comparison (jwtgate serve against the bare fasthttp server, separate processes driven by wrk; needs wrk on Linux) for this many alternating rounds into wrk.md and wrk.json; 0 skips it (-quick: one round of 1s)")
	fs.DurationVar(&wc.duration, "wrk-duration", 5*time.Second, "how long wrk drives each server per round of the wrk comparison (whole seconds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *httpDur < 0 || *httpConns < 1 || *httpRounds < 1 {
		return fmt.Errorf("-http must not be negative, -http-conns and -http-rounds must be at least 1")
	}
	if wc.rounds < 0 {
		return fmt.Errorf("-wrk-rounds must not be negative, got %d", wc.rounds)
	}
	if cc.rounds < 0 || cc.hs256 < 0 || cc.rs256 < 0 || cc.hs256+cc.rs256 == 0 {
		return fmt.Errorf("-cli-rounds, -cli-hs256 and -cli-rs256 must not be negative, and one token count must be positive")
	}
	if *count < 1 {
		return fmt.Errorf("-count must be at least 1, got %d", *count)
	}
	if *quick {
		*count = 1
		if *benchtime == "" {
			*benchtime = "100x"
		}
	}

	dir, err := moduleDir()
	if err != nil {
		return err
	}
	switch {
	case *out != "":
	case *quick:
		if *out, err = os.MkdirTemp("", "jwtgate-benchreport-"); err != nil {
			return err
		}
	default:
		*out = filepath.Join(dir, "results")
	}
	if *out, err = filepath.Abs(*out); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}

	cfg := runConfig{
		dir:       dir,
		rounds:    *count,
		benchtime: *benchtime,
		perRound:  len(bench.Algs) * len(bench.Libs),
		progress:  os.Stderr,
	}
	rawPath := filepath.Join(*out, "raw.txt")
	var raw []byte
	mc := describeMachine(dir)
	loadBefore := bench.LoadAverage()
	if *reportOnly {
		if raw, err = os.ReadFile(rawPath); err != nil {
			return err
		}
	} else {
		output, err := runBenchmarks(cfg)
		if err != nil {
			return err
		}
		mc.load = fmt.Sprintf("%s before, %s after", loadBefore, bench.LoadAverage())
		var buf bytes.Buffer
		err = writeMeta(&buf, reportInfo{
			command:   invocation(args),
			goTest:    cfg.goTestCommand(),
			benchtime: cfg.benchtime,
			quick:     *quick,
			machine:   mc,
		})
		if err != nil {
			return err
		}
		buf.Write(output)
		raw = buf.Bytes()
		if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
			return err
		}
	}

	m, err := parseResults(bytes.NewReader(raw), rawPath)
	if err != nil {
		return err
	}
	info, err := infoFromMeta(m)
	if err != nil {
		return fmt.Errorf("%s: %w", rawPath, err)
	}
	info.machine.modules = mc.modules
	info.chart = "verify.svg"

	stat, err := command(dir, "go", "tool", "benchstat", "-col", benchstatColumns(), rawPath)
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("benchstat: %w: %s", err, exit.Stderr)
		}
		return fmt.Errorf("benchstat: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "benchstat.txt"), []byte(stat), 0o644); err != nil {
		return err
	}

	title := fmt.Sprintf("JWT verification, median of %s — %s, %s", plural(info.rounds, "run"), info.machine.cpu, info.machine.goVer)
	if info.quick {
		title = "QUICK MODE (not a measurement) — " + title
	}
	chart, err := buildChart(m, title)
	if err != nil {
		return err
	}
	if err := saveChart(chart, filepath.Join(*out, "verify.svg"), filepath.Join(*out, "verify.png")); err != nil {
		return err
	}

	var md bytes.Buffer
	if err := writeReport(&md, m, info); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "RESULTS.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	resultsMD := bytes.Clone(md.Bytes())
	sideBySide := func(httpResults []*httpResult) error {
		cli, err := runCLI(dir, *out, cc, *quick, invocation(args))
		if err != nil {
			return err
		}
		wrk, err := runWrk(dir, *out, wc, *quick, invocation(args))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		writeSideBySide(&b, m, httpResults, cli)
		writeWrkSection(&b, wrk)
		return os.WriteFile(filepath.Join(*out, "RESULTS.md"), append(resultsMD, b.Bytes()...), 0o644)
	}
	fmt.Fprintf(os.Stderr, "benchreport: wrote raw.txt, benchstat.txt, RESULTS.md, verify.svg and verify.png in %s\n", *out)

	if *httpDur == 0 {
		return sideBySide(nil)
	}
	if *quick {
		*httpRounds = 1
	}
	hc := httpConfig{duration: *httpDur, warmup: min(2*time.Second, *httpDur/5), rounds: *httpRounds, conns: *httpConns, progress: os.Stderr}
	f, err := bench.NewFixture()
	if err != nil {
		return err
	}
	results, targets, err := runHTTP(context.Background(), f, hc)
	if err != nil {
		return err
	}
	js, err := marshalHTTP(results)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "http.json"), js, 0o644); err != nil {
		return err
	}
	md.Reset()
	mc.load = fmt.Sprintf("%s before, %s after", loadBefore, bench.LoadAverage())
	httpInfo := reportInfo{command: invocation(args), quick: *quick, machine: mc}
	if err := writeHTTPReport(&md, results, targets, hc, httpInfo); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "http.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	httpChart, err := buildHTTPChart(results, fmt.Sprintf("requests/s over loopback HTTP, median of %s (%s token mix)", plural(hc.rounds, "round"), httpAlg))
	if err != nil {
		return err
	}
	if err := saveChart(httpChart, filepath.Join(*out, "http.svg"), filepath.Join(*out, "http.png")); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchreport: wrote http.md, http.json and http.svg in %s\n", *out)
	return sideBySide(results)
}

// invocation is the command line that ran benchreport, as a user types it.
func invocation(args []string) string {
	return strings.TrimSpace("cd bench && go run ./cmd/benchreport " + strings.Join(args, " "))
}

// moduleDir returns the directory of the bench module, which must be the
// module of the working directory.
func moduleDir() (string, error) {
	out, err := command("", "go", "list", "-m", "-f", "{{.Path}} {{.Dir}}")
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	path, dir, _ := strings.Cut(strings.TrimSpace(out), " ")
	if path != modulePath {
		return "", fmt.Errorf("run benchreport in the bench module (cd bench), not in %s", path)
	}
	return dir, nil
}
