package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/internal/histogram"
)

// Result is what a Run measured. Requests counts every request that was
// answered or failed; Errors those that got no answer (connection errors,
// timeouts); Unexpected the answers whose status was not the class's
// expected one. Latencies are of answered requests only. CPU is the CPU time
// the whole process used while measuring — the load generator's and, for a
// server in the same process, the server's — which, unlike requests/s, other
// processes on a shared machine barely disturb. It marshals to JSON with
// durations in nanoseconds.
type Result struct {
	Name         string         `json:"name"`
	URL          string         `json:"url"`
	Method       string         `json:"method"`
	Concurrency  int            `json:"concurrency"`
	Elapsed      time.Duration  `json:"elapsed_ns"`
	CPU          time.Duration  `json:"process_cpu_ns"`
	Requests     uint64         `json:"requests"`
	RPS          float64        `json:"requests_per_second"`
	Errors       uint64         `json:"errors"`
	Unexpected   uint64         `json:"unexpected"`
	Latency      Latency        `json:"latency"`
	Statuses     map[int]uint64 `json:"statuses"`
	Classes      []ClassResult  `json:"classes"`
	Events       []EventResult  `json:"events,omitempty"`
	ErrorSamples []ErrorSample  `json:"error_samples,omitempty"`

	hist histogram.Histogram
}

// Latency summarizes the latency histogram.
type Latency struct {
	Count uint64        `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p99_9_ns"`
	Max   time.Duration `json:"max_ns"`
}

// ClassResult is what one class of the mix got.
type ClassResult struct {
	Name       string         `json:"name"`
	Weight     int            `json:"weight"`
	Expect     int            `json:"expect"` // at the end of the run
	Requests   uint64         `json:"requests"`
	Errors     uint64         `json:"errors"`
	Unexpected uint64         `json:"unexpected"`
	Statuses   map[int]uint64 `json:"statuses"`
}

// EventResult tells whether and when an event fired.
type EventResult struct {
	Name                 string        `json:"name"`
	PlannedAt            time.Duration `json:"planned_at_ns,omitempty"`
	PlannedAfterRequests uint64        `json:"planned_after_requests,omitempty"`
	Fired                bool          `json:"fired"`
	At                   time.Duration `json:"at_ns"`   // offset from the start of measurement
	Took                 time.Duration `json:"took_ns"` // how long Do ran
}

// ErrorSample is one transport error message and how often it occurred.
type ErrorSample struct {
	Message string `json:"message"`
	Count   uint64 `json:"count"`
}

// CPUPerRequest returns the process CPU time per request (0 without requests).
func (r *Result) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// Histogram returns the merged latency histogram (nanoseconds).
func (r *Result) Histogram() *histogram.Histogram { return &r.hist }

func summarize(h *histogram.Histogram) Latency {
	q := func(p float64) time.Duration { return time.Duration(h.Quantile(p)) }
	return Latency{
		Count: h.Count(),
		Min:   time.Duration(h.Min()),
		Mean:  time.Duration(h.Mean()),
		P50:   q(0.50),
		P90:   q(0.90),
		P99:   q(0.99),
		P999:  q(0.999),
		Max:   time.Duration(h.Max()),
	}
}

// JSON returns the result as indented JSON.
func (r *Result) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// WriteText writes a human-readable report of the result.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s, %d connections, %s\n", r.Name, r.Method, r.URL, r.Concurrency, FormatDuration(r.Elapsed))
	fmt.Fprintf(&b, "  %d requests, %.0f req/s, %d errors, %d unexpected statuses, process CPU %s per request\n",
		r.Requests, r.RPS, r.Errors, r.Unexpected, FormatDuration(r.CPUPerRequest()))
	l := r.Latency
	fmt.Fprintf(&b, "  latency: min %s, p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n",
		FormatDuration(l.Min), FormatDuration(l.P50), FormatDuration(l.P90),
		FormatDuration(l.P99), FormatDuration(l.P999), FormatDuration(l.Max))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  class\tweight\texpect\trequests\tstatuses\tunexpected\terrors\n")
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%s\t%d\t%d\n", c.Name, c.Weight, c.Expect, c.Requests, formatStatuses(c.Statuses), c.Unexpected, c.Errors)
	}
	tw.Flush()
	for _, e := range r.Events {
		if e.Fired {
			fmt.Fprintf(&b, "  event %q fired at %s (took %s)\n", e.Name, FormatDuration(e.At), FormatDuration(e.Took))
		} else {
			fmt.Fprintf(&b, "  event %q did not fire\n", e.Name)
		}
	}
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(&b, "  error (%d times): %s\n", e.Count, e.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatStatuses writes status counts as "200:9000 401:1000", by status.
func formatStatuses(m map[int]uint64) string {
	codes := make([]int, 0, len(m))
	for code := range m {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d:%d", code, m[code]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// FormatDuration prints d with three significant digits in a fitting unit.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.2fµs", float64(d)/float64(time.Microsecond))
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// comparisonRows returns the side-by-side rows of results, the first being
// the baseline that ratios refer to.
func comparisonRows(results []*Result) [][]string {
	rows := [][]string{{"target", "req/s", "vs " + results[0].Name, "CPU/req", "CPU vs " + results[0].Name, "p50", "p90", "p99", "p99.9", "max", "unexpected", "errors"}}
	base, baseCPU := results[0].RPS, results[0].CPUPerRequest()
	for _, r := range results {
		ratio, cpuRatio := "-", "-"
		if base > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*r.RPS/base)
		}
		if cpu := r.CPUPerRequest(); cpu > 0 && baseCPU > 0 {
			cpuRatio = fmt.Sprintf("%.1f%%", 100*float64(baseCPU)/float64(cpu))
		}
		l := r.Latency
		rows = append(rows, []string{
			r.Name, fmt.Sprintf("%.0f", r.RPS), ratio, FormatDuration(r.CPUPerRequest()), cpuRatio,
			FormatDuration(l.P50), FormatDuration(l.P90), FormatDuration(l.P99), FormatDuration(l.P999), FormatDuration(l.Max),
			fmt.Sprint(r.Unexpected), fmt.Sprint(r.Errors),
		})
	}
	return rows
}

// WriteComparison writes results side by side as an aligned text table, with
// each one's requests/s as a percentage of the first's, and the first's CPU
// time per request as a percentage of each one's (the share of the first's
// throughput each would reach on a machine where CPU is the limit). It
// writes nothing for no results.
func WriteComparison(w io.Writer, results ...*Result) error {
	if len(results) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range comparisonRows(results) {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// WriteComparisonMarkdown writes the same table as WriteComparison in
// Markdown.
func WriteComparisonMarkdown(w io.Writer, results ...*Result) error {
	if len(results) == 0 {
		return nil
	}
	rows := comparisonRows(results)
	var b strings.Builder
	b.WriteString("| " + strings.Join(rows[0], " | ") + " |\n|")
	for i := range rows[0] {
		if i == 0 {
			b.WriteString("---|")
		} else {
			b.WriteString("---:|")
		}
	}
	b.WriteString("\n")
	for _, row := range rows[1:] {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
