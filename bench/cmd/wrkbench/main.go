// Command wrkbench makes the measurement of issue 15: `jwtgate serve` and
// the bare fasthttp ceiling of `jwtgate bench http` (cmd/ceiling) each run
// as a process of their own on loopback, wrk drives them in turn (two
// threads, 64 connections, 1,024 distinct RS256 tokens that jwtgate answers
// from its token cache), and each server's own CPU time per request comes
// from /proc: wrk's work is not counted, as the in-process `jwtgate bench
// http` counts its load generator's. It builds jwtgate (or takes -jwtgate)
// and the ceiling, checks that jwtgate answers correctly, warms both up,
// runs alternating rounds and reports each round, the medians and the
// verdict against the targets: at least 90% of the ceiling's
// requests/s and at most 1 µs more CPU per request (bench.RunWrk).
//
// cmd/benchreport runs the same comparison beside the others (make bench);
// wrkbench runs it alone. Run it from the bench module on Linux with wrk
// installed (make bench-wrk does):
//
//	cd bench && go run ./cmd/wrkbench            # 5 rounds of 5 s, a Markdown report on standard output
//	cd bench && go run ./cmd/wrkbench -out results/wrk.md -json results/wrk.json
//
// Progress goes to standard error.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "wrkbench: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wrkbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := bench.WrkConfig{Progress: stderr}
	fs.IntVar(&cfg.Rounds, "rounds", 5, "rounds, each measuring both servers, alternating which goes first")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long wrk drives each server per round (whole seconds)")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "how long wrk drives each server once before the rounds (whole seconds; 0 for none)")
	fs.IntVar(&cfg.Threads, "threads", bench.WrkThreads, "wrk's threads (-t)")
	fs.IntVar(&cfg.Conns, "conns", bench.WrkConns, "wrk's connections (-c)")
	fs.IntVar(&cfg.Users, "users", bench.WrkUsers, "distinct valid tokens the requests cycle through")
	fs.StringVar(&cfg.JWTGate, "jwtgate", "", "the jwtgate `binary` to measure (default: build ../cmd/jwtgate with -trimpath)")
	fs.StringVar(&cfg.Wrk, "wrk", "", "the wrk `binary` (default: wrk on $PATH)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the working folder (binaries, keys, tokens, wrk script)")
	out := fs.String("out", "", "also write the report to `FILE`")
	jsonOut := fs.String("json", "", "write every round's figures to `FILE` as JSON (benchreport puts their medians in RESULTS.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	cfg.Dir = dir
	res, err := bench.RunWrk(cfg)
	if err != nil {
		return err
	}
	var report bytes.Buffer
	if err := bench.WriteWrkReport(&report, res, strings.TrimSpace("cd bench && go run ./cmd/wrkbench "+strings.Join(args, " "))); err != nil {
		return err
	}
	stdout.Write(report.Bytes())
	if *jsonOut != "" {
		js, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	if *out != "" {
		return os.WriteFile(*out, report.Bytes(), 0o644)
	}
	return nil
}
