package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jwtgate/jwtgate/bench"
)

// The command-line comparison (bench.RunCLI) in benchreport: cli.md and
// cli.json in the results folder, and the closing section of RESULTS.md that
// puts the three comparisons' ratios side by side.

// Token counts of the command-line comparison in -quick mode: enough to
// exercise the harness, small enough for CI.
const (
	quickCLIHS256 = 2000
	quickCLIRS256 = 200
)

// cliConfig is the command-line comparison's part of benchreport's flags.
type cliConfig struct {
	rounds       int // 0 skips the comparison
	hs256, rs256 int
}

// runCLI runs the command-line comparison into out's cli.md and cli.json
// and returns its result; with no rounds it returns the result cli.json
// holds from an earlier run, or nil if there is none.
func runCLI(dir, out string, c cliConfig, quick bool, command string) (*bench.CLIResult, error) {
	if c.rounds == 0 {
		return loadEarlier[bench.CLIResult](filepath.Join(out, "cli.json"))
	}
	if quick {
		c = cliConfig{rounds: 1, hs256: quickCLIHS256, rs256: quickCLIRS256}
	}
	r, err := bench.RunCLI(bench.CLIConfig{Dir: dir, Rounds: c.rounds, HS256: c.hs256, RS256: c.rs256, Quick: quick, Progress: os.Stderr})
	if err != nil {
		return nil, err
	}
	var md bytes.Buffer
	if err := bench.WriteCLIReport(&md, r, command); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "cli.md"), md.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "cli.json"), append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "benchreport: wrote cli.md and cli.json in %s\n", out)
	return r, nil
}

// writeSideBySide writes RESULTS.md's closing section: jwtgate against
// golang-jwt in each comparison of the run — in process per algorithm, over
// HTTP per server, and as whole processes on the command line. A comparison
// that did not run (nil, or no results) says how to run it.
func writeSideBySide(w io.Writer, m *measurements, httpResults []*httpResult, cli *bench.CLIResult) {
	p := &printer{w: w}
	p.line("")
	p.line("## Side by side: in process, over HTTP, on the command line")
	p.line("")
	p.line("How many times faster than golang-jwt (its figure divided by jwtgate's; above 1× is faster), for each")
	p.line("comparison of this run. Details: the tables above, [http.md](http.md) and [cli.md](cli.md).")
	p.line("")
	p.line("| comparison | case | vs golang-jwt |")
	p.line("|---|---|---:|")
	basis := "wall"
	if m.hasCPU() {
		basis = "CPU"
	}
	for _, alg := range m.algs {
		jg, ok1 := m.summarize(alg, "jwtgate")
		gj, ok2 := m.summarize(alg, bench.BaselineLib)
		if ok1 && ok2 && jg.cost() > 0 {
			p.line("| library, in process (%s time per verification) | %s | %.2f× |", basis, alg, gj.cost()/jg.cost())
		}
	}
	var base *httpResult
	for _, r := range httpResults {
		if r.target == bench.BaselineLib {
			base = r
		}
	}
	if base == nil || base.rps <= 0 {
		p.line("| HTTP forward-auth (requests/s) | not run | `-http 10s` |")
	} else {
		for _, r := range httpResults {
			if r != base && r.target != "ceiling" {
				p.line("| HTTP forward-auth, %s token mix (median requests/s) | %s | %.2f× |", httpAlg, r.target, r.rps/base.rps)
			}
		}
	}
	if cli == nil || len(cli.Cases) == 0 {
		p.line("| command line, whole process | not run | `-cli-rounds 15` |")
		return
	}
	quick := ""
	if cli.Quick {
		quick = ", quick mode"
	}
	for _, c := range cli.Cases {
		wall, cpu := c.Ratios()
		p.line("| command line, whole process, %d distinct tokens (wall, median of %s%s) | `jwtgate verify --summary`, %s | %.2f× |", c.Tokens, plural(cli.Rounds, "round"), quick, c.Alg, wall.Median)
		p.line("| command line, whole process, %d distinct tokens (CPU, median of %s%s) | `jwtgate verify --summary`, %s | %.2f× |", c.Tokens, plural(cli.Rounds, "round"), quick, c.Alg, cpu.Median)
	}
}

// loadEarlier returns the result an earlier run wrote to path as JSON, or
// nil if there is none.
func loadEarlier[T any](path string) (*T, error) {
	js, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r T
	if err := json.Unmarshal(js, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
