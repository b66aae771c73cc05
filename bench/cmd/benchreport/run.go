package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// benchPattern selects the in-process comparison benchmarks.
const benchPattern = "^BenchmarkVerify$"

// runConfig says how to run the benchmarks.
type runConfig struct {
	dir       string // the bench module
	rounds    int    // runs of every benchmark, interleaved
	benchtime string // -test.benchtime, "" for the default
	perRound  int    // benchmarks in one round, for progress
	progress  io.Writer
}

// testArgs are the flags given to the compiled test binary for one round.
func (c runConfig) testArgs() []string {
	args := []string{"-test.run=^$", "-test.bench=" + benchPattern, "-test.benchmem", "-test.count=1"}
	if c.benchtime != "" {
		args = append(args, "-test.benchtime="+c.benchtime)
	}
	return args
}

// goTestCommand is the go test command equivalent to one round.
func (c runConfig) goTestCommand() string {
	cmd := "go test -run='^$' -bench='" + benchPattern + "' -benchmem -count=1"
	if c.benchtime != "" {
		cmd += " -benchtime=" + c.benchtime
	}
	return cmd + " ."
}

// runBenchmarks compiles the benchmarks once and runs them c.rounds times,
// one round after another, so that every library is measured at every
// stage of the run: on a noisy machine, a slow minute then slows all of
// them alike instead of the one that happened to run during it (which is
// what one `go test -count=N` would do: it repeats each benchmark N times in
// a row). It returns the concatenated raw output.
func runBenchmarks(c runConfig) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "benchreport-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	fmt.Fprintf(c.progress, "benchreport: compiling the benchmarks in %s\n", c.dir)
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Dir = c.dir
	build.Stdout, build.Stderr = c.progress, c.progress
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go test -c: %w", err)
	}

	var raw bytes.Buffer
	start := time.Now()
	total := c.rounds * c.perRound
	done := 0
	for round := 1; round <= c.rounds; round++ {
		cmd := exec.Command(bin, c.testArgs()...)
		cmd.Dir = c.dir
		cmd.Stderr = c.progress
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			raw.WriteString(line)
			raw.WriteByte('\n')
			if !strings.HasPrefix(line, "Benchmark") || !strings.Contains(line, "ns/op") {
				continue
			}
			done++
			fmt.Fprintf(c.progress, "benchmark round %d/%d  %3d/%d  %-50s %s  (%s elapsed%s)\n",
				round, c.rounds, done, total, strings.Fields(line)[0], nsField(line),
				time.Since(start).Round(time.Second), eta(start, done, total))
		}
		if err := sc.Err(); err != nil {
			cmd.Wait()
			return nil, err
		}
		if err := cmd.Wait(); err != nil {
			os.Stderr.Write(tail(raw.Bytes(), 40))
			return nil, fmt.Errorf("benchmark round %d: %w", round, err)
		}
	}
	return raw.Bytes(), nil
}

// nsField returns the "N ns/op" part of a benchmark line.
func nsField(line string) string {
	f := strings.Fields(line)
	for i := 1; i < len(f); i++ {
		if f[i] == "ns/op" {
			return f[i-1] + " ns/op"
		}
	}
	return ""
}

// eta estimates the time left from the pace so far.
func eta(start time.Time, done, total int) string {
	if done == 0 || done >= total {
		return ""
	}
	left := time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done))
	return ", about " + left.Round(time.Second).String() + " left"
}

// tail returns the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, nil)
}
