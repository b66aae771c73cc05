// Command clibench compares `jwtgate verify --summary` with the same job
// done by golang-jwt v5 + keyfunc (cmd/golangjwt-verify) as a user runs
// them: whole processes, the tokens on standard input from a file, the same
// JWKS file and the same checks (issuer, audience, exp). It builds both
// programs, writes the token files (distinct tokens: 50,000 HS256 and 3,000
// RS256 by default), then runs the two programs in alternating order for a
// number of rounds, because a shared machine's load drifts, and reports per
// case and program the median wall time, CPU time (user + system) and peak
// resident memory with their spread (min–max), and the ratios of the
// medians and the spread of the per-round ratios.
//
// Run it from the bench module (make bench-cli does):
//
//	cd bench && go run ./cmd/clibench                  # 11 rounds, a Markdown table on standard output
//	cd bench && go run ./cmd/clibench -rounds 21 -out results/cli.md
//
// Progress goes to standard error.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

const (
	issuer   = "https://idp.example.com"
	audience = "api"
)

// tokenCase is one token file and the JWKS that verifies it.
type tokenCase struct {
	name   string
	alg    engine.Alg
	n      int
	tokens string // file paths
	jwks   string
}

// program is one of the compared commands.
type program struct {
	name string
	argv func(c *tokenCase) []string
}

// sample is one process run.
type sample struct {
	wall, cpu time.Duration
	rssKiB    int64
}

func main() {
	rounds := flag.Int("rounds", 11, "alternating rounds per case")
	nHS := flag.Int("hs256", 50000, "distinct HS256 tokens")
	nRS := flag.Int("rs256", 3000, "distinct RS256 tokens")
	out := flag.String("out", "", "also write the report to `FILE`")
	keep := flag.Bool("keep", false, "keep the working folder (binaries and token files)")
	flag.Parse()
	if err := run(*rounds, *nHS, *nRS, *out, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "clibench: %v\n", err)
		os.Exit(1)
	}
}

func run(rounds, nHS, nRS int, outFile string, keep bool) error {
	if rounds < 1 {
		return fmt.Errorf("-rounds %d: want at least 1", rounds)
	}
	dir, err := os.MkdirTemp("", "clibench")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(os.Stderr, "working folder %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	jwtgate := filepath.Join(dir, "jwtgate")
	peer := filepath.Join(dir, "golangjwt-verify")
	fmt.Fprintln(os.Stderr, "building jwtgate and golangjwt-verify")
	if err := goBuild("..", jwtgate, "./cmd/jwtgate"); err != nil {
		return err
	}
	if err := goBuild(".", peer, "./cmd/golangjwt-verify"); err != nil {
		return err
	}
	cases := []*tokenCase{{name: "HS256", alg: engine.HS256, n: nHS}, {name: "RS256", alg: engine.RS256, n: nRS}}
	for _, c := range cases {
		fmt.Fprintf(os.Stderr, "writing %d %s tokens\n", c.n, c.name)
		if err := c.write(dir); err != nil {
			return err
		}
	}
	programs := []program{
		{"jwtgate", func(c *tokenCase) []string {
			return []string{jwtgate, "verify", "--summary", "--jwks", c.jwks, "--issuer", issuer, "--audience", audience}
		}},
		{"golang-jwt", func(c *tokenCase) []string {
			return []string{peer, "--jwks", c.jwks, "--issuer", issuer, "--audience", audience}
		}},
	}

	var report bytes.Buffer
	fmt.Fprintf(&report, "# `jwtgate verify` against golang-jwt v5 + keyfunc, whole processes\n\n")
	fmt.Fprintf(&report, "%s, %d CPUs (GOMAXPROCS %d), %s/%s, %s; %d alternating rounds; distinct tokens on standard input from a file, `--summary`, same JWKS file, issuer, audience and exp checks. golangjwt-verify is single-threaded, as such a program is written. CPU is user + system time; peak RSS from %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), rounds, rssSource())
	fmt.Fprintf(&report, "| case | program | wall median (min–max) | CPU median (min–max) | peak RSS median (min–max) |\n|---|---|---|---|---|\n")
	var ratios bytes.Buffer
	fmt.Fprintf(&ratios, "\n| case | wall: golang-jwt / jwtgate, median of rounds (min–max) | CPU: golang-jwt / jwtgate, median (min–max) |\n|---|---|---|\n")
	for _, c := range cases {
		want := fmt.Sprintf(`{"valid":%d,"invalid":0}`+"\n", c.n)
		samples := make([][]sample, len(programs))
		for r := range rounds {
			for i := range programs {
				p := i
				if r%2 == 1 {
					p = len(programs) - 1 - i // alternate who goes first
				}
				s, err := runOnce(programs[p].argv(c), c.tokens, want)
				if err != nil {
					return fmt.Errorf("%s %s: %w", c.name, programs[p].name, err)
				}
				samples[p] = append(samples[p], s)
			}
			fmt.Fprintf(os.Stderr, "%s round %d/%d: jwtgate %v, golang-jwt %v\n", c.name, r+1, rounds,
				samples[0][r].wall.Round(time.Millisecond), samples[1][r].wall.Round(time.Millisecond))
		}
		for i, p := range programs {
			s := samples[i]
			fmt.Fprintf(&report, "| %s (%d) | %s | %s | %s | %s |\n", c.name, c.n, p.name,
				spread(s, func(x sample) float64 { return x.wall.Seconds() }, "%.3f s"),
				spread(s, func(x sample) float64 { return x.cpu.Seconds() }, "%.3f s"),
				spread(s, func(x sample) float64 { return float64(x.rssKiB) / 1024 }, "%.0f MiB"))
		}
		wall := make([]float64, rounds)
		cpu := make([]float64, rounds)
		for r := range rounds {
			wall[r] = samples[1][r].wall.Seconds() / samples[0][r].wall.Seconds()
			cpu[r] = samples[1][r].cpu.Seconds() / max(samples[0][r].cpu.Seconds(), 1e-9)
		}
		fmt.Fprintf(&ratios, "| %s (%d) | %s | %s |\n", c.name, c.n, spreadOf(wall, "%.2f×"), spreadOf(cpu, "%.2f×"))
	}
	report.Write(ratios.Bytes())
	os.Stdout.Write(report.Bytes())
	if outFile != "" {
		return os.WriteFile(outFile, report.Bytes(), 0o644)
	}
	return nil
}

// rssSource says where the peak resident memory figures come from.
func rssSource() string {
	if _, err := os.Stat(timeCmd); err == nil {
		return "GNU time (`" + timeCmd + " -f %M`)"
	}
	return "the child's rusage, which includes this harness's own peak (no " + timeCmd + ")"
}

// goBuild builds pkg, from the module in dir, into bin.
func goBuild(dir, bin, pkg string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// write generates the case's key, its JWKS file and its token file.
func (c *tokenCase) write(dir string) error {
	key, err := sign.Generate(c.alg, strings.ToLower(c.name)+"-1")
	if err != nil {
		return err
	}
	c.jwks = filepath.Join(dir, c.name+".jwks.json")
	if err := os.WriteFile(c.jwks, sign.JWKS(key), 0o644); err != nil {
		return err
	}
	now := time.Now()
	var buf bytes.Buffer
	for i := range c.n {
		tok, err := key.Sign(map[string]any{
			"iss": issuer, "aud": audience, "sub": fmt.Sprint("user-", i),
			"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(), "scope": "read write",
		})
		if err != nil {
			return err
		}
		buf.WriteString(tok)
		buf.WriteByte('\n')
	}
	c.tokens = filepath.Join(dir, c.name+".tokens.txt")
	return os.WriteFile(c.tokens, buf.Bytes(), 0o644)
}

// timeCmd is GNU time, which measures a child's peak resident memory
// exactly. The rusage Go reports for a child it started includes the
// harness's own peak: Go starts children with vfork (CLONE_VM), and exec
// carries the shared address space's high-water mark into the child's
// maxrss.
const timeCmd = "/usr/bin/time"

// runOnce runs argv with stdin from the file, checks that it prints want
// and exits 0, and measures it (under GNU time when there is one, for the
// peak resident memory).
func runOnce(argv []string, stdin, want string) (sample, error) {
	in, err := os.Open(stdin)
	if err != nil {
		return sample{}, err
	}
	defer in.Close()
	var rssFile string
	if _, err := os.Stat(timeCmd); err == nil {
		f, err := os.CreateTemp("", "clibench-rss")
		if err != nil {
			return sample{}, err
		}
		f.Close()
		rssFile = f.Name()
		defer os.Remove(rssFile)
		argv = append([]string{timeCmd, "-f", "%M", "-o", rssFile}, argv...)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &out, &errOut
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, errOut.String())
	}
	if out.String() != want {
		return sample{}, fmt.Errorf("printed %q, want %q", out.String(), want)
	}
	s := sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if rssFile != "" {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return sample{}, err
		}
		if s.rssKiB, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return sample{}, fmt.Errorf("%s -f %%M printed %q: %v", timeCmd, b, err)
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rssKiB = int64(ru.Maxrss) // KiB on Linux; an upper bound, see timeCmd
	}
	return s, nil
}

// spread formats the median and range of f over s.
func spread(s []sample, f func(sample) float64, format string) string {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	return spreadOf(v, format)
}

// spreadOf formats the median and range of v.
func spreadOf(v []float64, format string) string {
	v = slices.Clone(v)
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", med, v[0], v[len(v)-1])
}
