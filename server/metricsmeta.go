package server

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/internal/version"
)

// Every family served at /metrics carries a "# HELP" line that says what it
// means and a "# TYPE" line, so that Prometheus never ingests it as untyped.
//
// To add a metric, declare its family once with its type and help text and
// use the returned name, a one-liner:
//
//	var metricDrained = family("jwtgate_drained_requests_total", typeCounter,
//		"Requests answered while draining after SIGTERM.")
//
// Then either create it in the server's set (m.set.NewCounter(metricDrained),
// or with labels m.set.NewCounter(metricDrained+`{listener="main"}`)): the
// /metrics writer adds its HELP and TYPE; or, in a hand-written writer
// registered with RegisterMetricsWriter, call writeFamilyHeader(w, name)
// once before the family's samples. A jwtgate_ family without a declaration
// makes TestMetricsEveryFamilyDescribed fail; bench/metricsformat_test.go
// parses the whole page with Prometheus's own parser.

// Prometheus metric types, for family.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
	typeSummary   = "summary"
)

// metricFamily is the metadata of one family.
type metricFamily struct{ typ, help string }

var (
	familiesMu sync.RWMutex
	families   = map[string]metricFamily{}
)

// family declares the family name with its Prometheus type and help text and
// returns name. Declaring the same family twice with other metadata, an empty
// help text or an unknown type panics: it is a programming error, met by the
// first test.
func family(name, typ, help string) string {
	switch typ {
	case typeCounter, typeGauge, typeHistogram, typeSummary:
	default:
		panic("jwtgate: metric " + name + ": unknown type " + typ)
	}
	if strings.TrimSpace(help) == "" || strings.ContainsAny(help, "\n") {
		panic("jwtgate: metric " + name + " needs a one-line help text")
	}
	familiesMu.Lock()
	defer familiesMu.Unlock()
	if old, ok := families[name]; ok && old != (metricFamily{typ, help}) {
		panic("jwtgate: metric " + name + " declared twice with different metadata")
	}
	families[name] = metricFamily{typ, help}
	return name
}

// describeFamily returns the metadata of a declared family, or of a Go
// runtime or process family written by the metrics package.
func describeFamily(name string) (metricFamily, bool) {
	familiesMu.RLock()
	f, ok := families[name]
	familiesMu.RUnlock()
	return f, ok
}

// writeFamilyHeader writes the HELP and TYPE lines of the declared family
// name. An undeclared name panics.
func writeFamilyHeader(w io.Writer, name string) {
	f, ok := describeFamily(name)
	if !ok {
		panic("jwtgate: metric " + name + " written without a family declaration")
	}
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(f.help), name, f.typ)
}

// escapeHelp escapes a help text for the text format.
func escapeHelp(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

var metricBuildInfo = family("jwtgate_build_info", typeGauge,
	"Always 1; the labels carry the jwtgate version and the Go version it was built with.")

// writeBuildInfo writes jwtgate_build_info{version,go_version} 1.
func writeBuildInfo(w io.Writer) {
	writeFamilyHeader(w, metricBuildInfo)
	fmt.Fprintf(w, "%s{version=\"%s\",go_version=\"%s\"} 1\n", metricBuildInfo, labelValue(version.String()), labelValue(runtime.Version()))
}

// exposeMetadataOnce turns on the metrics package's HELP and TYPE lines, the
// only way it writes the types of its Go runtime and process families and of
// the counters in a Set. It is a process-wide switch; the metrics package
// writes "# HELP name" with no text, which writeMetrics fills in.
var exposeMetadataOnce sync.Once

// writeMetrics writes the /metrics page: the server's set (its counters and
// registered writers), the build info, then the Go runtime and process
// metrics, with a help text on every HELP line.
func (m *serverMetrics) writeMetrics(w io.Writer) {
	exposeMetadataOnce.Do(func() { metrics.ExposeMetadata(true) })
	var b bytes.Buffer
	m.scrapeMu.Lock()
	m.showStriped()
	m.set.WritePrometheus(&b)
	m.scrapeMu.Unlock()
	writeBuildInfo(&b)
	metrics.WriteProcessMetrics(&b)
	w.Write(fillHelp(b.Bytes()))
}

// fillHelp gives every "# HELP name" line without text the family's declared
// help text, or for the metrics package's own families a pointer to where
// they are defined.
func fillHelp(page []byte) []byte {
	out := make([]byte, 0, len(page)+len(page)/4)
	for len(page) > 0 {
		line := page
		if i := bytes.IndexByte(page, '\n'); i >= 0 {
			line, page = page[:i+1], page[i+1:]
		} else {
			page = nil
		}
		name, ok := bytes.CutPrefix(bytes.TrimRight(line, "\n"), []byte("# HELP "))
		if !ok || bytes.IndexByte(name, ' ') >= 0 {
			out = append(out, line...)
			continue
		}
		out = append(out, "# HELP "...)
		out = append(out, name...)
		out = append(out, ' ')
		out = append(out, escapeHelp(helpFor(string(name)))...)
		out = append(out, '\n')
	}
	return out
}

// helpFor returns the help text of a family the metrics package wrote, or
// "" for an undeclared one.
func helpFor(name string) string {
	if f, ok := describeFamily(name); ok {
		return f.help
	}
	if h, ok := runtimeHelp[name]; ok {
		return h
	}
	switch {
	case strings.HasPrefix(name, "go_memstats_"):
		return "Go runtime memory statistic " + strings.TrimPrefix(name, "go_memstats_") + " (see runtime.MemStats)."
	case strings.HasPrefix(name, "go_"):
		return "Go runtime metric " + strings.TrimPrefix(name, "go_") + " (see runtime/metrics)."
	case strings.HasPrefix(name, "process_"):
		return "Process metric " + strings.TrimPrefix(name, "process_") + " read from /proc/self."
	}
	return "" // an undeclared family: TestMetricsEveryFamilyDescribed fails
}

// runtimeHelp holds the help texts of the Go runtime and process families a
// reader looks at first.
var runtimeHelp = map[string]string{
	"go_goroutines":                    "Goroutines that currently exist.",
	"go_threads":                       "OS threads created by the Go runtime.",
	"go_gomaxprocs":                    "GOMAXPROCS: OS threads that may run Go code at once.",
	"go_cpu_count":                     "Logical CPUs usable by the process.",
	"go_memlimit_bytes":                "The Go runtime's soft memory limit (GOMEMLIMIT).",
	"go_gc_duration_seconds":           "Pause durations of Go garbage collections.",
	"go_gc_pauses_seconds":             "Distribution of Go garbage collection stop-the-world pauses.",
	"go_gc_cpu_seconds_total":          "CPU time spent in the Go garbage collector.",
	"go_sched_latencies_seconds":       "Distribution of the time goroutines waited to be scheduled.",
	"go_mutex_wait_seconds_total":      "Time goroutines spent blocked on sync.Mutex and sync.RWMutex.",
	"go_memstats_alloc_bytes":          "Bytes of allocated heap objects.",
	"go_memstats_heap_inuse_bytes":     "Bytes in in-use heap spans.",
	"go_memstats_sys_bytes":            "Bytes of memory obtained from the OS by the Go runtime.",
	"go_info":                          "Always 1; the version label carries the Go version.",
	"go_info_ext":                      "Always 1; the labels carry GOMAXPROCS, GOGC and GOMEMLIMIT.",
	"process_cpu_seconds_total":        "CPU time of the process, user and system.",
	"process_resident_memory_bytes":    "Resident set size of the process.",
	"process_virtual_memory_bytes":     "Virtual memory size of the process.",
	"process_start_time_seconds":       "Start time of the process, in seconds since the Unix epoch.",
	"process_open_fds":                 "Open file descriptors of the process.",
	"process_max_fds":                  "Limit on open file descriptors of the process (RLIMIT_NOFILE).",
	"process_num_threads":              "OS threads of the process.",
	"process_cpu_seconds_user_total":   "User CPU time of the process.",
	"process_cpu_seconds_system_total": "System CPU time of the process.",
}
