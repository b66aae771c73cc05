package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/loadgen"
)

// targetRatio and targetCPUExcess are what jwtgate should reach with a warm
// token cache (--mix valid=100; issue 15): this share of the ceiling's
// requests/s, and at most this much more CPU time per request.
const (
	targetRatio     = 0.90
	targetCPUExcess = time.Microsecond
)

// cpuExcess says how much more (or less) CPU time per request cpu is than
// base.
func cpuExcess(cpu, base time.Duration) string {
	if cpu < base {
		return loadgen.FormatDuration(base-cpu) + " less"
	}
	return loadgen.FormatDuration(cpu-base) + " more"
}

// benchReport is the outcome of `jwtgate bench http`: the first result is
// the ceiling.
type benchReport struct {
	Command        string            `json:"command"`
	Time           time.Time         `json:"time"`
	Machine        machineInfo       `json:"machine"`
	Settings       benchSettings     `json:"settings"`
	Results        []*loadgen.Result `json:"results"`
	Rounds         []roundFigures    `json:"rounds"`
	RatioToCeiling float64           `json:"ratio_to_ceiling"`
	// CPURatio is the ceiling's process CPU time per request divided by the
	// target's: the throughput ratio to expect where CPU is the limit, and
	// far less disturbed by other processes on a shared machine.
	CPURatio    float64 `json:"cpu_ratio_to_ceiling"`
	JWKSFetches uint64  `json:"jwks_fetches,omitempty"`
}

// roundFigures are the requests/s and the process CPU time per request of
// one round.
type roundFigures struct {
	Ceiling    float64       `json:"ceiling_rps"`
	Target     float64       `json:"target_rps"`
	CeilingCPU time.Duration `json:"ceiling_cpu_ns_per_request"`
	TargetCPU  time.Duration `json:"target_cpu_ns_per_request"`
}

// roundsLine lists each round's requests/s and ratio, and its CPU time per
// request where measured (empty for one round): how far apart the rounds
// are shows how much the machine disturbed the run.
func (r *benchReport) roundsLine() string {
	if len(r.Rounds) < 2 {
		return ""
	}
	parts := make([]string, len(r.Rounds))
	for i, f := range r.Rounds {
		parts[i] = fmt.Sprintf("%.0f/%.0f (%.1f%%", f.Ceiling, f.Target, 100*f.Target/f.Ceiling)
		if f.CeilingCPU > 0 && f.TargetCPU > 0 {
			parts[i] += fmt.Sprintf("; CPU/req %s/%s", loadgen.FormatDuration(f.CeilingCPU), loadgen.FormatDuration(f.TargetCPU))
		}
		parts[i] += ")"
	}
	return fmt.Sprintf("rounds, ceiling/%s req/s: %s", r.Results[len(r.Results)-1].Name, strings.Join(parts, ", "))
}

// machineInfo describes where a run happened.
type machineInfo struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu,omitempty"`
	Go         string `json:"go"`
}

func currentMachine() machineInfo {
	return machineInfo{
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(), Go: runtime.Version(),
	}
}

// cpuModel returns the CPU model name from /proc/cpuinfo ("" elsewhere).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

func (m machineInfo) String() string {
	s := fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d), %s", m.GOOS, m.GOARCH, m.CPUs, m.GOMAXPROCS, m.Go)
	if m.CPU != "" {
		s = m.CPU + ", " + s
	}
	return s
}

// verdict says how the measured server did against the ceiling.
func (r *benchReport) verdict() string {
	target := r.Results[len(r.Results)-1]
	s := fmt.Sprintf("%s: %.1f%% of the ceiling's requests/s", target.Name, 100*r.RatioToCeiling)
	if target.Name == "jwtgate" {
		if r.RatioToCeiling >= targetRatio {
			s += fmt.Sprintf(" (target ≥ %.0f%%: met)", 100*targetRatio)
		} else {
			s += fmt.Sprintf(" (target ≥ %.0f%%: NOT met)", 100*targetRatio)
		}
	}
	if r.CPURatio > 0 {
		cpu, base := target.CPUPerRequest(), r.Results[0].CPUPerRequest()
		s += fmt.Sprintf("; by CPU time per request, %.1f%% of the ceiling (%s against %s: %s)",
			100*r.CPURatio, loadgen.FormatDuration(cpu), loadgen.FormatDuration(base), cpuExcess(cpu, base))
		if target.Name == "jwtgate" {
			met := "met"
			if cpu-base > targetCPUExcess {
				met = "NOT met"
			}
			s += fmt.Sprintf(" (target ≤ %s more: %s)", loadgen.FormatDuration(targetCPUExcess), met)
		}
	}
	return s
}

// writeText prints the side-by-side table, the verdict and each result.
func (r *benchReport) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Command)
	fmt.Fprintf(&b, "machine: %s\n\n", r.Machine)
	loadgen.WriteComparison(&b, r.Results...)
	fmt.Fprintf(&b, "\n%s\n", r.verdict())
	if line := r.roundsLine(); line != "" {
		fmt.Fprintln(&b, line)
	}
	if r.JWKSFetches > 0 {
		fmt.Fprintf(&b, "JWKS fetches by jwtgate: %d\n", r.JWKSFetches)
	}
	for _, res := range r.Results {
		b.WriteString("\n")
		res.WriteText(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *benchReport) jsonPath(dir string) string { return filepath.Join(dir, "http.json") }
func (r *benchReport) mdPath(dir string) string   { return filepath.Join(dir, "http.md") }

// writeFiles writes http.json and http.md to dir.
func (r *benchReport) writeFiles(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(r.jsonPath(dir), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# HTTP load: jwtgate against the fasthttp ceiling\n\n")
	fmt.Fprintf(&md, "Command: `%s`  \n", r.Command)
	fmt.Fprintf(&md, "Run at: %s  \n", r.Time.Format(time.RFC3339))
	fmt.Fprintf(&md, "Machine: %s\n\n", r.Machine)
	s := r.Settings
	fmt.Fprintf(&md, "Load: %d connections over loopback, %d round(s) of %v measured per server after %v warmup, %s tokens, mix `%s`, %d distinct valid tokens",
		s.Concurrency, s.Rounds, s.Duration, s.Warmup, s.Alg, s.Mix, s.Distinct)
	if s.RotateAt > 0 {
		fmt.Fprintf(&md, ", key rotated %v into the run (unknown-kid cooldown %v)", s.RotateAt, s.Cooldown)
	}
	md.WriteString(".\n\n")
	loadgen.WriteComparisonMarkdown(&md, r.Results...)
	fmt.Fprintf(&md, "\n%s.\n\n", r.verdict())
	if line := r.roundsLine(); line != "" {
		fmt.Fprintf(&md, "%s.\n\n", line)
	}
	md.WriteString("The ceiling is a bare fasthttp handler answering 200 to every request, on the same machine with the same load generator: the ratio is what jwtgate's verification and HTTP handling cost on top of fasthttp itself.\n\n")
	md.WriteString("## Details\n\n```\n")
	for i, res := range r.Results {
		if i > 0 {
			md.WriteString("\n")
		}
		res.WriteText(&md)
	}
	md.WriteString("```\n")
	return os.WriteFile(r.mdPath(dir), []byte(md.String()), 0o644)
}

// commandLine joins args for display, quoting those that need it.
func commandLine(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}
