package bench

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsFormat parses jwtgate's /metrics with Prometheus's own
// text-format parser and checks that every family has a help text and a
// type Prometheus stores as such: counter, gauge, histogram or summary,
// never untyped. It lives in the bench module to keep
// github.com/prometheus/common out of jwtgate's own go.mod.
func TestMetricsFormat(t *testing.T) {
	f := mustFixture(t)
	srv, err := StartJWTGate(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	checkForwardAuth(t, f, srv.URL+"/auth") // every outcome has a sample

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus cannot parse /metrics: %v", err)
	}
	for name, mf := range families {
		switch mf.GetType() {
		case dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY:
		default:
			t.Errorf("%s has type %v: want counter, gauge, histogram or summary (declare it with family in server/metricsmeta.go)", name, mf.GetType())
		}
		if strings.TrimSpace(mf.GetHelp()) == "" {
			t.Errorf("%s has no help text", name)
		}
	}
	for name, want := range map[string]dto.MetricType{
		"jwtgate_requests_total":          dto.MetricType_COUNTER,
		"jwtgate_verify_duration_seconds": dto.MetricType_HISTOGRAM,
		"jwtgate_token_cache_hits_total":  dto.MetricType_COUNTER,
		"jwtgate_token_cache_entries":     dto.MetricType_GAUGE,
		"jwtgate_jwks_fetches_total":      dto.MetricType_COUNTER,
		"jwtgate_issuer_ready":            dto.MetricType_GAUGE,
		"jwtgate_ready":                   dto.MetricType_GAUGE,
		"jwtgate_build_info":              dto.MetricType_GAUGE,
		"go_goroutines":                   dto.MetricType_GAUGE,
	} {
		mf := families[name]
		if mf == nil || mf.GetType() != want || len(mf.GetMetric()) == 0 {
			t.Errorf("%s: %v, want type %v with samples", name, mf, want)
		}
	}
	info := families["jwtgate_build_info"]
	if info != nil && len(info.GetMetric()) == 1 {
		labels := map[string]string{}
		for _, l := range info.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["version"] == "" || !strings.HasPrefix(labels["go_version"], "go") || info.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("jwtgate_build_info %v: want version and go_version labels and the value 1", info.GetMetric()[0])
		}
	}
}
