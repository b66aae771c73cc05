package extauthz

import (
	"fmt"
	"sync"

	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server"
)

// metricChecks counts Check calls by outcome and reason:
// jwtgate_grpc_requests_total{outcome="allow|deny|forbid",reason="..."}.
var metricChecks = server.DeclareMetric("jwtgate_grpc_requests_total", "counter",
	`Envoy ext_authz Check calls by outcome (allow = OK, deny = UNAUTHENTICATED/401, forbid = PERMISSION_DENIED/403) and reason ("allowed", "public", ... or why the request was refused), as jwtgate_requests_total counts /auth.`)

// counters are the Check counters of one Service. Every reason a
// configuration's policy, the engine and the adapter can answer with has
// its counter in the configuration's map (forPolicy), built with its view
// and only read afterwards: counting takes no lock and allocates nothing.
// A reason met later gets its counter in extra.
type counters struct {
	set     *metrics.Set
	extraMu sync.Mutex
	extra   map[string]*metrics.Counter
}

func newCounters(set *metrics.Set) *counters {
	return &counters{set: set, extra: map[string]*metrics.Counter{}}
}

// forPolicy returns the counters of every reason of pol, the engine and the
// adapter, by outcome + " " + reason. The set makes them the same counters
// for every configuration.
func (c *counters) forPolicy(pol *authz.Policy) map[string]*metrics.Counter {
	known := map[string]*metrics.Counter{}
	for _, r := range []string{authz.ReasonAllowed, authz.ReasonAnonymous, authz.ReasonPublic, authz.ReasonPreflight} {
		c.register(known, "allow", r)
	}
	for _, rd := range pol.Denials() {
		c.register(known, server.Outcome(rd.Denial.Status()), rd.Denial.Reason())
	}
	for _, e := range engine.Reasons() {
		d := authz.DenialOf(e, "")
		c.register(known, server.Outcome(d.Status()), d.Reason())
	}
	for _, d := range []*authz.Denial{DenialNoHTTP, DenialNoPath, authz.DenialURIEncoding, authz.DenialURIUnknown, authz.DenialNoToken,
		authz.DenialMultipleTokens, authz.DenialBearerEmpty, authz.DenialBearerSpaces, authz.DenialHeaderEmpty} {
		c.register(known, server.Outcome(d.Status()), d.Reason())
	}
	return known
}

func (c *counters) register(known map[string]*metrics.Counter, outcome, reason string) {
	key := outcome + " " + reason
	if _, ok := known[key]; !ok {
		known[key] = c.set.GetOrCreateCounter(fmt.Sprintf(`%s{outcome=%q,reason=%q}`, metricChecks, outcome, reason))
	}
}

// allowed counts an allowed request; known are the configuration's
// counters.
func (c *counters) allowed(known map[string]*metrics.Counter, reason string) {
	c.count(known, "allow", reason)
}

// denied counts a refusal; known are the configuration's counters.
func (c *counters) denied(known map[string]*metrics.Counter, d *authz.Denial) {
	c.count(known, server.Outcome(d.Status()), d.Reason())
}

func (c *counters) count(known map[string]*metrics.Counter, outcome, reason string) {
	// The key is built on the stack; a map lookup with a string(bytes)
	// conversion does not allocate.
	var buf [64]byte
	key := append(append(append(buf[:0], outcome...), ' '), reason...)
	if ctr := known[string(key)]; ctr != nil {
		ctr.Inc()
		return
	}
	c.extraMu.Lock()
	ctr := c.extra[string(key)]
	if ctr == nil {
		ctr = c.set.GetOrCreateCounter(fmt.Sprintf(`%s{outcome=%q,reason=%q}`, metricChecks, outcome, reason))
		c.extra[string(key)] = ctr
	}
	c.extraMu.Unlock()
	ctr.Inc()
}
