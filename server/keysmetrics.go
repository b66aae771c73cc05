package server

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/keystore"
)

// Key store metric names.
const (
	// jwtgate_jwks_fetches_total{outcome="ok|not_modified|timeout|network|status|too_large|invalid|redirect|discovery"}
	metricFetches = "jwtgate_jwks_fetches_total"
	// jwtgate_unknown_kid_total{outcome="refetched|cooled_down|negative_hit"}
	metricUnknownKid = "jwtgate_unknown_kid_total"
	// jwtgate_issuer_keys{issuer}: usable keys now.
	metricIssuerKeys = "jwtgate_issuer_keys"
	// jwtgate_issuer_ready{issuer}: 1 when the issuer has usable keys.
	metricIssuerReady = "jwtgate_issuer_ready"
	// jwtgate_jwks_last_refresh_age_seconds{issuer}: time since the last
	// good load or fetch; absent until the first one.
	metricRefreshAge = "jwtgate_jwks_last_refresh_age_seconds"
	// jwtgate_ready: 1 when every issuer has usable keys (what /readyz says).
	metricReady = "jwtgate_ready"
)

// writeKeystoreMetrics writes the key store's counters and per-issuer state.
func writeKeystoreMetrics(w io.Writer, store *keystore.Store, now time.Time) {
	st := store.Stats()
	metrics.WriteMetadataIfNeeded(w, metricFetches, "counter")
	fmt.Fprintf(w, "%s{outcome=\"ok\"} %d\n", metricFetches, st.FetchOK)
	fmt.Fprintf(w, "%s{outcome=\"not_modified\"} %d\n", metricFetches, st.FetchNotModified)
	kinds := make([]string, 0, len(st.FetchErrors))
	for k := range st.FetchErrors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "%s{outcome=\"%s\"} %d\n", metricFetches, labelValue(k), st.FetchErrors[k])
	}
	metrics.WriteMetadataIfNeeded(w, metricUnknownKid, "counter")
	fmt.Fprintf(w, "%s{outcome=\"refetched\"} %d\n", metricUnknownKid, st.UnknownKidRefetched)
	fmt.Fprintf(w, "%s{outcome=\"cooled_down\"} %d\n", metricUnknownKid, st.UnknownKidCooledDown)
	fmt.Fprintf(w, "%s{outcome=\"negative_hit\"} %d\n", metricUnknownKid, st.UnknownKidNegativeHit)

	issuers := store.Issuers()
	metrics.WriteMetadataIfNeeded(w, metricIssuerKeys, "gauge")
	for _, is := range issuers {
		fmt.Fprintf(w, "%s{issuer=\"%s\"} %d\n", metricIssuerKeys, labelValue(is.Issuer), is.Keys)
	}
	metrics.WriteMetadataIfNeeded(w, metricIssuerReady, "gauge")
	ready := 1
	for _, is := range issuers {
		r := 0
		if is.Ready {
			r = 1
		} else {
			ready = 0
		}
		fmt.Fprintf(w, "%s{issuer=\"%s\"} %d\n", metricIssuerReady, labelValue(is.Issuer), r)
	}
	metrics.WriteMetadataIfNeeded(w, metricRefreshAge, "gauge")
	for _, is := range issuers {
		if !is.LastRefresh.IsZero() {
			fmt.Fprintf(w, "%s{issuer=\"%s\"} %g\n", metricRefreshAge, labelValue(is.Issuer), now.Sub(is.LastRefresh).Seconds())
		}
	}
	metrics.WriteGaugeUint64(w, metricReady, uint64(ready))
}
