package server

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/jwtgate/jwtgate/keystore"
)

// Key store metric families; see metricsmeta.go for how to add one.
var (
	// jwtgate_jwks_fetches_total{outcome="ok|not_modified|timeout|network|status|too_large|invalid|redirect|discovery"}
	metricFetches = family("jwtgate_jwks_fetches_total", typeCounter,
		`JWKS and discovery fetches by outcome: "ok", "not_modified" (HTTP 304), or the kind of failure.`)
	// jwtgate_unknown_kid_total{outcome="refetched|cooled_down|negative_hit"}
	metricUnknownKid = family("jwtgate_unknown_kid_total", typeCounter,
		`Tokens with a kid no key has: "refetched" the JWKS, refused during the issuer's "cooled_down" period, or a cached "negative_hit".`)
	// jwtgate_issuer_keys{issuer}: usable keys now.
	metricIssuerKeys = family("jwtgate_issuer_keys", typeGauge,
		"Usable verification keys of the issuer now.")
	// jwtgate_issuer_ready{issuer}: 1 when the issuer has usable keys.
	metricIssuerReady = family("jwtgate_issuer_ready", typeGauge,
		"1 when the issuer has usable keys, else 0.")
	// jwtgate_jwks_last_refresh_age_seconds{issuer}: time since the last
	// good load or fetch; absent until the first one.
	metricRefreshAge = family("jwtgate_jwks_last_refresh_age_seconds", typeGauge,
		"Seconds since the issuer's keys were last loaded or fetched successfully; absent until the first success.")
	// jwtgate_ready: 1 when every issuer has usable keys (what /readyz says).
	metricReady = family("jwtgate_ready", typeGauge,
		"1 when every issuer has usable keys (what /readyz reports), else 0.")
)

// writeKeystoreMetrics writes the key store's counters and per-issuer state.
func writeKeystoreMetrics(w io.Writer, store *keystore.Store, now time.Time) {
	st := store.Stats()
	writeFamilyHeader(w, metricFetches)
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
	writeFamilyHeader(w, metricUnknownKid)
	fmt.Fprintf(w, "%s{outcome=\"refetched\"} %d\n", metricUnknownKid, st.UnknownKidRefetched)
	fmt.Fprintf(w, "%s{outcome=\"cooled_down\"} %d\n", metricUnknownKid, st.UnknownKidCooledDown)
	fmt.Fprintf(w, "%s{outcome=\"negative_hit\"} %d\n", metricUnknownKid, st.UnknownKidNegativeHit)

	issuers := store.Issuers()
	writeFamilyHeader(w, metricIssuerKeys)
	for _, is := range issuers {
		fmt.Fprintf(w, "%s{issuer=\"%s\"} %d\n", metricIssuerKeys, labelValue(is.Issuer), is.Keys)
	}
	writeFamilyHeader(w, metricIssuerReady)
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
	writeFamilyHeader(w, metricRefreshAge)
	for _, is := range issuers {
		if !is.LastRefresh.IsZero() {
			fmt.Fprintf(w, "%s{issuer=\"%s\"} %g\n", metricRefreshAge, labelValue(is.Issuer), now.Sub(is.LastRefresh).Seconds())
		}
	}
	writeFamilyHeader(w, metricReady)
	fmt.Fprintf(w, "%s %d\n", metricReady, ready)
}
