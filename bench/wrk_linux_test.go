package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireEnv names the variable CI sets so that a missing wrk fails the
// test instead of skipping it: there, it must always run.
const requireEnv = "JWTGATE_REQUIRE_INTEGRATION"

// wrkBinary returns the path of wrk, or skips the test with a message that
// says how to get it (fails it when $JWTGATE_REQUIRE_INTEGRATION is set, as
// CI does).
func wrkBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("wrk"); err == nil {
		return p
	}
	if os.Getenv(requireEnv) != "" {
		t.Fatalf("wrk is not installed (apt-get install wrk), and %s requires the wrk comparison's test to run", requireEnv)
	}
	msg := "SKIPPING THE WRK COMPARISON TEST: wrk is not installed (apt-get install wrk); CI installs it, so this test always runs there"
	t.Log(msg)
	fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
	t.Skip(msg)
	return ""
}

// wrkTestConfig returns a short comparison's settings whose working folder
// goes into a fresh $TMPDIR, which leftTemp inspects.
func wrkTestConfig(t *testing.T) WrkConfig {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", t.TempDir())
	return WrkConfig{
		Dir: dir, Rounds: 2, Duration: time.Second, Warmup: time.Second,
		Threads: WrkThreads, Conns: WrkConns, Users: WrkUsers, Quick: true,
	}
}

// checkNothingLeft fails the test if a process this one started is still
// running or the working folder is left in $TMPDIR.
func checkNothingLeft(t *testing.T) {
	t.Helper()
	if kids := childProcesses(t); len(kids) > 0 {
		t.Errorf("processes left running: %s", strings.Join(kids, "; "))
	}
	left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "jwtgate-wrkbench-*"))
	if len(left) > 0 {
		t.Errorf("working folders left: %q", left)
	}
}

// childProcesses lists this process's children ("PID (name)") from /proc.
func childProcesses(t *testing.T) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended meanwhile
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if i < 0 || len(f) < 2 {
			continue
		}
		// Field 4, the parent's pid, is the second after the name.
		if ppid, err := strconv.Atoi(f[1]); err == nil && ppid == os.Getpid() {
			kids = append(kids, strings.TrimSpace(string(b[:i+1])))
		}
	}
	return kids
}

// TestRunWrk runs the whole comparison briefly with the real wrk and
// jwtgate: both servers answer every round with 2xx only, their CPU time is
// read, the report is written, and nothing is left running or on disk.
func TestRunWrk(t *testing.T) {
	cfg := wrkTestConfig(t)
	cfg.Wrk = wrkBinary(t)
	var progress bytes.Buffer
	cfg.Progress = &progress
	before := goroutines()
	res, err := RunWrk(cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	checkNothingLeft(t)
	checkGoroutines(t, before)
	if len(res.Servers) != 2 || res.Servers[0].Name != WrkCeiling || res.Servers[1].Name != WrkJWTGate {
		t.Fatalf("servers %+v, want the ceiling and jwtgate", res.Servers)
	}
	for _, s := range res.Servers {
		if len(s.Samples) != cfg.Rounds {
			t.Errorf("%s: %d samples, want one per round (%d)", s.Name, len(s.Samples), cfg.Rounds)
		}
		for r, x := range s.Samples {
			if x.Requests <= 0 || x.RPS <= 0 || x.CPU <= 0 || x.P50 <= 0 || x.P99 < x.P50 {
				t.Errorf("%s round %d: %+v: want requests, requests/s, CPU time and latencies", s.Name, r+1, x)
			}
		}
	}
	if !strings.HasPrefix(res.WrkVersion, "wrk ") || res.Users != WrkUsers || res.Alg != "RS256" || !res.Quick {
		t.Errorf("result %+v does not say how it was made", res)
	}
	if want := "round 2/2: ceiling"; !strings.Contains(progress.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, progress.String())
	}
	var report bytes.Buffer
	if err := WriteWrkReport(&report, res, ""); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%s", progress.String(), report.String())
}

// hungWrk writes a wrk that tells its version as wrk does, then hangs
// whatever it is asked to do, and returns its path.
func hungWrk(t *testing.T) string {
	fake := filepath.Join(t.TempDir(), "wrk")
	script := "#!/bin/sh\nif [ \"$1\" = -v ]; then echo 'wrk 4.1.0 [epoll] Copyright (C) 2012 Will Glozer'; exit 1; fi\nexec sleep 600\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return fake
}

// TestRunWrkKillsHungWrk checks that a wrk that never finishes is killed
// once its run's time and the margin have passed, and that the servers and
// the working folder go with it.
func TestRunWrkKillsHungWrk(t *testing.T) {
	cfg := wrkTestConfig(t)
	cfg.Rounds, cfg.Warmup, cfg.hangMargin = 1, 0, time.Second
	cfg.Wrk = hungWrk(t)
	_, err := RunWrk(cfg)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 2s, so it was killed") {
		t.Fatalf("RunWrk with a hung wrk = %v, want it killed after 2s", err)
	}
	checkNothingLeft(t)
}

// TestRunWrkServerFailsAtStart checks that a jwtgate that exits at once is
// reported with its exit status, and that the ceiling started before it is
// stopped.
func TestRunWrkServerFailsAtStart(t *testing.T) {
	cfg := wrkTestConfig(t)
	cfg.Wrk = hungWrk(t) // never reached
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Fatalf("this test runs false(1) as a jwtgate that exits at once: %v", err)
	}
	cfg.JWTGate = falseBin
	_, err = RunWrk(cfg)
	if err == nil || !strings.Contains(err.Error(), "jwtgate exited at start (exit status 1)") {
		t.Fatalf("RunWrk with a jwtgate that exits = %v, want the exit reported", err)
	}
	checkNothingLeft(t)
}

// TestRunWrkOnce checks how a wrk run's output decides it, with a wrk that
// prints a real report: the figures of a run with 2xx answers only are
// kept; a report with non-2xx answers or socket errors, and a wrk that
// fails, are errors that show wrk's output.
func TestRunWrkOnce(t *testing.T) {
	dir := t.TempDir()
	n := 0
	fake := func(report string, status int) string {
		t.Helper()
		n++
		path := filepath.Join(dir, fmt.Sprintf("wrk-%d", n))
		script := fmt.Sprintf("#!/bin/sh\ncat %q\nexit %d\n", report, status)
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sample := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", "wrk", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	out, err := runWrkOnce([]string{fake(sample("jwtgate.txt"), 0)}, time.Minute)
	if err != nil || out.requests != 79760 || out.rps != 72618.88 {
		t.Errorf("a clean run: %+v, %v; want its figures", out, err)
	}
	refused := filepath.Join(dir, "refused.txt")
	if err := os.WriteFile(refused, []byte("unable to connect to 127.0.0.1:1 Connection refused\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		wrk  string
		want []string
	}{
		{fake(sample("non2xx.txt"), 0), []string{"were not 2xx", "Non-2xx or 3xx responses: 109161"}},
		{fake(sample("timeouts.txt"), 0), []string{"2 socket errors", "timeout 2"}},
		{fake(sample("non2xx-socket-errors.txt"), 0), []string{"were not 2xx", "19762 socket errors"}},
		{fake(refused, 1), []string{"exit status 1", "Connection refused"}},
	} {
		_, err := runWrkOnce([]string{c.wrk}, time.Minute)
		for _, want := range c.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: runWrkOnce = %v, want an error naming %q", c.wrk, err, want)
			}
		}
	}
}
