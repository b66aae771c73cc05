// Command clibench compares `jwtgate verify --summary` with the same job
// done by golang-jwt v5 + keyfunc (cmd/golangjwt-verify) as a user runs
// them: whole processes, the tokens on standard input from a file, the same
// JWKS file and the same checks (issuer, audience, exp). It builds both
// programs, writes the token files (distinct tokens: 50,000 HS256 and 3,000
// RS256 by default), then runs the two programs in alternating order for a
// number of rounds, because a shared machine's load drifts, and reports per
// case and program the median wall time, CPU time (user + system) and peak
// resident memory with their spread (min–max), and the ratios of the
// medians and the spread of the per-round ratios (bench.RunCLI).
//
// cmd/benchreport runs the same comparison beside the others (make bench);
// clibench runs it alone. Run it from the bench module (make bench-cli
// does):
//
//	cd bench && go run ./cmd/clibench                  # 11 rounds, a Markdown table on standard output
//	cd bench && go run ./cmd/clibench -rounds 21 -out results/cli.md -json results/cli.json
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

	"github.com/jwtgate/jwtgate/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "clibench: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clibench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rounds := fs.Int("rounds", 11, "alternating rounds per case")
	nHS := fs.Int("hs256", 50000, "distinct HS256 tokens (0 leaves the case out)")
	nRS := fs.Int("rs256", 3000, "distinct RS256 tokens (0 leaves the case out)")
	out := fs.String("out", "", "also write the report to `FILE`")
	jsonOut := fs.String("json", "", "write every sample to `FILE` as JSON (benchreport -report-only puts its ratios in RESULTS.md)")
	keep := fs.Bool("keep", false, "keep the working folder (binaries and token files)")
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
	res, err := bench.RunCLI(bench.CLIConfig{Dir: dir, Rounds: *rounds, HS256: *nHS, RS256: *nRS, Keep: *keep, Progress: stderr})
	if err != nil {
		return err
	}
	var report bytes.Buffer
	if err := bench.WriteCLIReport(&report, res, strings.TrimSpace("cd bench && go run ./cmd/clibench "+strings.Join(args, " "))); err != nil {
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
