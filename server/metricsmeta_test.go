package server_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/version"
)

// TestMetricsEveryFamilyDescribed checks the /metrics page line by line:
// every family has exactly one HELP line with a text and then one TYPE line
// (counter, gauge, histogram or summary) before its samples, and its samples
// are contiguous. bench/metricsformat_test.go also parses the page with
// Prometheus's own parser.
func TestMetricsEveryFamilyDescribed(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	tok := f.token(t)
	f.auth(t, tok)
	call(f.h, "GET", "/auth", "Authorization: Bearer bad")
	call(f.h, "POST", "/verify", tok)
	r := call(f.h, "GET", "/metrics", "")
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	help := map[string]string{}
	typ := map[string]string{}
	done := map[string]bool{} // families whose samples have ended
	current := ""
	for n, line := range strings.Split(strings.TrimSuffix(r.body, "\n"), "\n") {
		n++
		switch {
		case strings.HasPrefix(line, "# HELP "):
			name, text, _ := strings.Cut(strings.TrimPrefix(line, "# HELP "), " ")
			if _, dup := help[name]; dup {
				t.Errorf("line %d: second HELP for %s", n, name)
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("line %d: %s has no help text: declare it with family(name, type, help)", n, name)
			}
			help[name] = text
			if current != "" {
				done[current] = true
			}
			current = name
		case strings.HasPrefix(line, "# TYPE "):
			name, kind, _ := strings.Cut(strings.TrimPrefix(line, "# TYPE "), " ")
			if name != current {
				t.Errorf("line %d: TYPE of %s does not follow its HELP", n, name)
			}
			if _, dup := typ[name]; dup {
				t.Errorf("line %d: second TYPE for %s", n, name)
			}
			switch kind {
			case "counter", "gauge", "histogram", "summary":
			default:
				t.Errorf("line %d: %s has type %q", n, name, kind)
			}
			typ[name] = kind
		case strings.HasPrefix(line, "#") || line == "":
			t.Errorf("line %d: unexpected %q", n, line)
		default:
			name := line[:strings.IndexAny(line, "{ ")]
			fam := name
			if name != current {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if trimmed := strings.TrimSuffix(name, suffix); trimmed == current && (typ[current] == "histogram" || typ[current] == "summary") {
						fam = trimmed
					}
				}
			}
			if fam != current || typ[fam] == "" {
				t.Errorf("line %d: sample %s outside its family's HELP and TYPE (current family %q)", n, name, current)
			}
			if done[fam] {
				t.Errorf("line %d: samples of %s are not contiguous", n, fam)
			}
		}
	}
	for _, want := range []string{"jwtgate_requests_total", "jwtgate_verify_duration_seconds", "jwtgate_token_cache_hits_total", "jwtgate_jwks_fetches_total", "jwtgate_ready", "jwtgate_build_info", "go_goroutines", "process_cpu_seconds_total"} {
		if help[want] == "" || typ[want] == "" {
			t.Errorf("%s: HELP %q TYPE %q, want both", want, help[want], typ[want])
		}
	}
	if typ["jwtgate_verify_duration_seconds"] != "histogram" || typ["jwtgate_requests_total"] != "counter" || typ["jwtgate_ready"] != "gauge" {
		t.Errorf("types %v", typ)
	}
	info := `jwtgate_build_info{version="` + version.String() + `",go_version="` + runtime.Version() + `"} 1` + "\n"
	if !strings.Contains(r.body, info) {
		t.Errorf("metrics lack %s", info)
	}
}
