package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// The command-line comparison times `jwtgate verify --summary` against the
// same job done by golang-jwt v5 + keyfunc (cmd/golangjwt-verify) as a user
// runs them: whole processes, the tokens on standard input from a file, the
// same JWKS file and the same checks (issuer, audience, exp). RunCLI builds
// both programs, writes the token files (distinct tokens), then runs the
// two programs in alternating order for a number of rounds, because a shared
// machine's load drifts; WriteCLIReport reports per case and program the
// median wall time, CPU time (user + system) and peak resident memory with
// their spread (min–max), and the ratios of the medians and the spread of
// the per-round ratios.

// CLI programs, in the order of CLICase.Programs.
const (
	CLIJWTGate   = "jwtgate"
	CLIGolangJWT = "golang-jwt"
)

// cliIssuer and cliAudience are what the tokens carry and both programs
// check.
const (
	cliIssuer   = "https://idp.example.com"
	cliAudience = "api"
)

// CLIConfig configures RunCLI.
type CLIConfig struct {
	// Dir is the bench module's directory; jwtgate's module is its parent.
	Dir string
	// Rounds is how many alternating rounds run per case (at least 1).
	Rounds int
	// HS256 and RS256 are how many distinct tokens each case's file holds;
	// 0 leaves the case out.
	HS256, RS256 int
	// Quick marks a run that only proves the harness works; it builds the
	// programs without -trimpath, from the build cache.
	Quick bool
	// Keep keeps the working folder (binaries and token files).
	Keep bool
	// Progress receives a line per round; nil discards them.
	Progress io.Writer
}

// CLISample is one process run.
type CLISample struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"` // user + system
	RSSKiB int64         `json:"rss_kib"`
}

// CLIProgram is what one program measured in one case, a sample per round.
type CLIProgram struct {
	Name    string      `json:"name"`
	Samples []CLISample `json:"samples"`
}

// CLICase is one token file: both programs' samples, round by round.
type CLICase struct {
	Alg      string       `json:"alg"`
	Tokens   int          `json:"tokens"`
	Programs []CLIProgram `json:"programs"` // CLIJWTGate, then CLIGolangJWT
}

// CLIResult is a whole command-line comparison.
type CLIResult struct {
	Date       time.Time `json:"date"`
	CPUs       int       `json:"cpus"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Platform   string    `json:"platform"` // GOOS/GOARCH
	GoVersion  string    `json:"go"`
	Rounds     int       `json:"rounds"`
	Quick      bool      `json:"quick"`
	RSSSource  string    `json:"rss_source"`
	Cases      []CLICase `json:"cases"`
}

// Ratio is a median of per-round ratios with its range.
type Ratio struct{ Median, Min, Max float64 }

// Ratios returns golang-jwt's time over jwtgate's, round by round, for
// wall and CPU time: how many times faster jwtgate was.
func (c *CLICase) Ratios() (wall, cpu Ratio) {
	jg, gj := c.Programs[0].Samples, c.Programs[1].Samples
	n := min(len(jg), len(gj))
	w := make([]float64, n)
	u := make([]float64, n)
	for r := range n {
		w[r] = gj[r].Wall.Seconds() / max(jg[r].Wall.Seconds(), 1e-9)
		u[r] = gj[r].CPU.Seconds() / max(jg[r].CPU.Seconds(), 1e-9)
	}
	return ratioOf(w), ratioOf(u)
}

// ratioOf returns the median and range of v; the zero Ratio for no values.
func ratioOf(v []float64) Ratio {
	if len(v) == 0 {
		return Ratio{}
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return Ratio{Median: medianSorted(v), Min: v[0], Max: v[len(v)-1]}
}

// medianSorted returns the median of sorted, non-empty v.
func medianSorted(v []float64) float64 {
	if len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return v[len(v)/2]
}

// RunCLI runs the command-line comparison.
func RunCLI(cfg CLIConfig) (*CLIResult, error) {
	if cfg.Rounds < 1 {
		return nil, fmt.Errorf("CLI comparison: %d rounds: want at least 1", cfg.Rounds)
	}
	if cfg.HS256 < 0 || cfg.RS256 < 0 || cfg.HS256+cfg.RS256 == 0 {
		return nil, fmt.Errorf("CLI comparison: %d HS256 and %d RS256 tokens: want a positive number of one or both", cfg.HS256, cfg.RS256)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "cmd", "golangjwt-verify")); err != nil {
		return nil, fmt.Errorf("CLI comparison: %q is not the bench module's directory (run it from jwtgate's bench/): %w", cfg.Dir, err)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	tmp, err := os.MkdirTemp("", "jwtgate-clibench-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		fmt.Fprintf(progress, "CLI comparison: working folder %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	jwtgate := filepath.Join(tmp, "jwtgate")
	peer := filepath.Join(tmp, "golangjwt-verify")
	fmt.Fprintln(progress, "CLI comparison: building jwtgate and golangjwt-verify")
	if err := goBuild(filepath.Join(cfg.Dir, ".."), jwtgate, "./cmd/jwtgate", !cfg.Quick); err != nil {
		return nil, err
	}
	if err := goBuild(cfg.Dir, peer, "./cmd/golangjwt-verify", !cfg.Quick); err != nil {
		return nil, err
	}
	argv := [][]string{
		{jwtgate, "verify", "--summary", "--issuer", cliIssuer, "--audience", cliAudience, "--jwks"},
		{peer, "--issuer", cliIssuer, "--audience", cliAudience, "--jwks"},
	}
	res := &CLIResult{
		Date: time.Now().UTC(), CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(),
		Rounds: cfg.Rounds, Quick: cfg.Quick, RSSSource: rssSource(),
	}
	for _, c := range []struct {
		alg engine.Alg
		n   int
	}{{engine.HS256, cfg.HS256}, {engine.RS256, cfg.RS256}} {
		if c.n == 0 {
			continue
		}
		fmt.Fprintf(progress, "CLI comparison: writing %d %s tokens\n", c.n, c.alg)
		jwks, tokens, err := writeTokenFile(tmp, c.alg, c.n)
		if err != nil {
			return nil, err
		}
		cc := CLICase{Alg: c.alg.String(), Tokens: c.n, Programs: []CLIProgram{{Name: CLIJWTGate}, {Name: CLIGolangJWT}}}
		want := fmt.Sprintf(`{"valid":%d,"invalid":0}`+"\n", c.n)
		for r := range cfg.Rounds {
			for i := range argv {
				p := i
				if r%2 == 1 {
					p = len(argv) - 1 - i // alternate who goes first
				}
				s, err := runOnce(append(slices.Clone(argv[p]), jwks), tokens, want)
				if err != nil {
					return nil, fmt.Errorf("CLI comparison, %s %s: %w", c.alg, cc.Programs[p].Name, err)
				}
				cc.Programs[p].Samples = append(cc.Programs[p].Samples, s)
			}
			fmt.Fprintf(progress, "CLI comparison: %s round %d/%d: jwtgate %v (CPU %v), golang-jwt %v (CPU %v)\n", c.alg, r+1, cfg.Rounds,
				cc.Programs[0].Samples[r].Wall.Round(time.Millisecond), cc.Programs[0].Samples[r].CPU.Round(time.Millisecond),
				cc.Programs[1].Samples[r].Wall.Round(time.Millisecond), cc.Programs[1].Samples[r].CPU.Round(time.Millisecond))
		}
		res.Cases = append(res.Cases, cc)
	}
	return res, nil
}

// WriteCLIReport writes the comparison as Markdown: how it was made, a row
// per case and program, then the ratios. command, when not empty, is the
// command that made it.
func WriteCLIReport(w io.Writer, r *CLIResult, command string) error {
	if len(r.Cases) == 0 {
		return errors.New("CLI comparison: no case measured")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# `jwtgate verify` against golang-jwt v5 + keyfunc, whole processes\n\n")
	if r.Quick {
		fmt.Fprintf(&b, "> **Quick mode**: a short run to prove the harness works. These numbers are not a measurement.\n\n")
	}
	fmt.Fprintf(&b, "%s, %d CPUs (GOMAXPROCS %d), %s, %s; %d alternating rounds; distinct tokens on standard input from a file, `--summary`, same JWKS file, issuer, audience and exp checks. golangjwt-verify is single-threaded, as such a program is written. CPU is user + system time; peak RSS from %s.",
		r.Date.Format("2006-01-02"), r.CPUs, r.GOMAXPROCS, r.Platform, r.GoVersion, r.Rounds, r.RSSSource)
	if command != "" {
		fmt.Fprintf(&b, " Made by `%s`.", command)
	}
	fmt.Fprintf(&b, "\n\n| case | program | wall median (min–max) | CPU median (min–max) | peak RSS median (min–max) |\n|---|---|---|---|---|\n")
	for _, c := range r.Cases {
		for _, p := range c.Programs {
			fmt.Fprintf(&b, "| %s (%d) | %s | %s | %s | %s |\n", c.Alg, c.Tokens, p.Name,
				spreadOf(p.Samples, func(x CLISample) float64 { return x.Wall.Seconds() }, "%.3f s"),
				spreadOf(p.Samples, func(x CLISample) float64 { return x.CPU.Seconds() }, "%.3f s"),
				spreadOf(p.Samples, func(x CLISample) float64 { return float64(x.RSSKiB) / 1024 }, "%.0f MiB"))
		}
	}
	fmt.Fprintf(&b, "\n| case | wall: golang-jwt / jwtgate, median of rounds (min–max) | CPU: golang-jwt / jwtgate, median (min–max) |\n|---|---|---|\n")
	for _, c := range r.Cases {
		wall, cpu := c.Ratios()
		fmt.Fprintf(&b, "| %s (%d) | %s | %s |\n", c.Alg, c.Tokens, wall.Format("%.2f×"), cpu.Format("%.2f×"))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Format formats r as "median (min–max)", each with format.
func (r Ratio) Format(format string) string {
	return fmt.Sprintf(format+" ("+format+"–"+format+")", r.Median, r.Min, r.Max)
}

// spreadOf formats the median and range of f over s.
func spreadOf(s []CLISample, f func(CLISample) float64, format string) string {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	return ratioOf(v).Format(format)
}

// rssSource says where the peak resident memory figures come from.
func rssSource() string {
	if _, err := os.Stat(timeCmd); err == nil {
		return "GNU time (`" + timeCmd + " -f %M`)"
	}
	return "the child's rusage, which includes the harness's own peak (no " + timeCmd + ")"
}

// goBuild builds pkg, from the module in dir, into bin; with trimpath as
// the release build does (make build), else from the build cache that go
// vet and go test fill, which -trimpath cannot use (CI's quick run).
func goBuild(dir, bin, pkg string, trimpath bool) error {
	args := []string{"build"}
	if trimpath {
		args = append(args, "-trimpath")
	}
	cmd := exec.Command("go", append(args, "-o", bin, pkg)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s in %s: %w\n%s", pkg, dir, err, out.Bytes())
	}
	return nil
}

// writeTokenFile generates a key of alg, its JWKS file and a file of n
// distinct tokens it signed, one per line, and returns the two paths.
func writeTokenFile(dir string, alg engine.Alg, n int) (jwks, tokens string, err error) {
	key, err := sign.Generate(alg, strings.ToLower(alg.String())+"-1")
	if err != nil {
		return "", "", err
	}
	jwks = filepath.Join(dir, alg.String()+".jwks.json")
	if err := os.WriteFile(jwks, sign.JWKS(key), 0o644); err != nil {
		return "", "", err
	}
	now := time.Now()
	var buf bytes.Buffer
	for i := range n {
		tok, err := key.Sign(map[string]any{
			"iss": cliIssuer, "aud": cliAudience, "sub": fmt.Sprint("user-", i),
			"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(), "scope": "read write",
		})
		if err != nil {
			return "", "", err
		}
		buf.WriteString(tok)
		buf.WriteByte('\n')
	}
	tokens = filepath.Join(dir, alg.String()+".tokens.txt")
	return jwks, tokens, os.WriteFile(tokens, buf.Bytes(), 0o644)
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
func runOnce(argv []string, stdin, want string) (CLISample, error) {
	in, err := os.Open(stdin)
	if err != nil {
		return CLISample{}, err
	}
	defer in.Close()
	var rssFile string
	if _, err := os.Stat(timeCmd); err == nil {
		f, err := os.CreateTemp("", "jwtgate-clibench-rss")
		if err != nil {
			return CLISample{}, err
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
		return CLISample{}, fmt.Errorf("%v: %s", err, errOut.String())
	}
	if out.String() != want {
		return CLISample{}, fmt.Errorf("printed %q, want %q", out.String(), want)
	}
	s := CLISample{Wall: wall, CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if rssFile != "" {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return CLISample{}, err
		}
		if s.RSSKiB, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return CLISample{}, fmt.Errorf("%s -f %%M printed %q: %v", timeCmd, b, err)
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.RSSKiB = int64(ru.Maxrss) // KiB on Linux; an upper bound, see timeCmd
	}
	return s, nil
}
