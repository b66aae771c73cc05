package server

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/ticks"
)

// Metric families of the request path (Prometheus text format, served at
// /metrics); see metricsmeta.go for how to add one.
var (
	// jwtgate_requests_total{endpoint="auth|verify",outcome="allow|deny|forbid",reason="ok|<engine reason>|no_token|..."}
	metricRequests = family("jwtgate_requests_total", typeCounter,
		`Requests to /auth and /verify by endpoint, outcome (allow, deny = 401, forbid = 403) and reason ("ok" or why the token was refused).`)
	// jwtgate_verify_duration_seconds: histogram of the engine Verify calls
	// of /auth and /verify (cache hits included), buckets from 100ns to 5s.
	metricVerifyDuration = family("jwtgate_verify_duration_seconds", typeHistogram,
		"Time spent verifying a token for /auth and /verify, verified-token cache hits included.")
	// jwtgate_route_requests_total{route="<route name>|none",outcome="allow|deny|forbid",reason="allowed|anonymous|public|preflight|<refusal reason>"}
	metricRouteRequests = family("jwtgate_route_requests_total", typeCounter,
		`Requests to /auth by the route that decided them ("none" when the original request could not be routed), outcome (allow, deny = 401, forbid = 403) and reason (allowed, anonymous, public, preflight, or why the request was refused).`)
	// jwtgate_http_refused_total{reason="ambiguous_framing"}
	metricHTTPRefused = family("jwtgate_http_refused_total", typeCounter,
		"Requests refused at the HTTP layer before any endpoint, by reason (ambiguous_framing: Content-Length with Transfer-Encoding, or a transfer coding other than exactly chunked).")
)

// metricCachePrefix begins the token cache families:
// jwtgate_token_cache_{hits,misses,inserts,evictions,invalidations}_total,
// jwtgate_token_cache_entries, jwtgate_token_cache_bytes: the one cache of
// every issuer.
const metricCachePrefix = "jwtgate_token_cache_"

// serverMetrics are the counters of one server, in a metrics.Set of its
// own (never the process-wide default set).
type serverMetrics struct {
	set      *metrics.Set
	verify   latencyHistogram
	authOK   *stripedCounter
	verifyOK *stripedCounter
	// striped are the striped counters, each with the counter of the set
	// that carries its name and value to the page: writeMetrics sets it from
	// the sum of the shards, under scrapeMu (so that two scrapes at once
	// never store an older sum after a newer one).
	stripedMu sync.Mutex
	striped   map[string]stripedSample
	scrapeMu  sync.Mutex
	// known holds the counter of every reason known at construction, per
	// endpoint: read-only, so looking one up takes no lock and no
	// allocation. A reason met later (an error type the server does not
	// know) gets its counter in extra.
	known   [numEndpoints]map[string]*metrics.Counter
	extraMu sync.Mutex
	extra   [numEndpoints]map[string]*metrics.Counter
	// sealed is set once the first generation is built (Server.New):
	// later registrations go to extra.
	sealed bool
}

type endpoint uint8

const (
	endpointAuth endpoint = iota
	endpointVerify
	numEndpoints
)

var endpointNames = [numEndpoints]string{"auth", "verify"}

func newServerMetrics() *serverMetrics {
	m := &serverMetrics{set: metrics.NewSet(), striped: map[string]stripedSample{}}
	m.verify.init(latencyBounds, ticks.Counter())
	m.authOK = m.stripedCounter(requestsName(endpointAuth, 200, "ok"))
	m.verifyOK = m.stripedCounter(requestsName(endpointVerify, 200, "ok"))
	for e := range numEndpoints {
		m.known[e] = map[string]*metrics.Counter{}
		m.extra[e] = map[string]*metrics.Counter{}
	}
	m.set.RegisterMetricsWriter(func(w io.Writer) { m.verify.write(w, metricVerifyDuration) })
	return m
}

// stripedSample is a striped counter and the counter of the set that
// shows it.
type stripedSample struct {
	shown *metrics.Counter
	c     *stripedCounter
}

// stripedCounter returns the striped counter of the sample name (a family
// with its labels), creating it and its counter in the set.
func (m *serverMetrics) stripedCounter(name string) *stripedCounter {
	m.stripedMu.Lock()
	defer m.stripedMu.Unlock()
	if s, ok := m.striped[name]; ok {
		return s.c
	}
	s := stripedSample{shown: m.set.GetOrCreateCounter(name), c: newStripedCounter()}
	m.striped[name] = s
	return s.c
}

// showStriped sets the counters of the set from their striped counters.
// The caller holds scrapeMu.
func (m *serverMetrics) showStriped() {
	m.stripedMu.Lock()
	defer m.stripedMu.Unlock()
	for _, s := range m.striped {
		s.shown.Set(s.c.Load())
	}
}

func requestsName(e endpoint, status int, reason string) string {
	return fmt.Sprintf(`%s{endpoint=%q,outcome=%q,reason=%q}`, metricRequests, endpointNames[e], Outcome(status), reason)
}

// Outcome is the outcome label of a decision's status in jwtgate's request
// metrics, the same for every front end: "allow" (200), "forbid" (403) or
// "deny" (401).
func Outcome(status int) string {
	switch status {
	case 200:
		return "allow"
	case 403:
		return "forbid"
	}
	return "deny"
}

// routeCounters count /auth decisions by route and reason. Each route has a
// copy-on-write map from reason to counter: counting a reason met before
// takes one atomic load and no lock; a new one is added under the lock.
type routeCounters struct {
	m       *serverMetrics
	names   []string // by route index; the last is "none"
	mu      sync.Mutex
	byRoute []atomic.Pointer[map[string]*metrics.Counter]
	allowed [][len(allowedReasons)]atomic.Pointer[stripedCounter] // by route, the allowed outcomes (striped: every allowed request adds to one)
}

// allowedReasons are the outcomes of an allowed request.
var allowedReasons = [...]string{authz.ReasonAllowed, authz.ReasonAnonymous, authz.ReasonPublic, authz.ReasonPreflight}

// init names the routes (in the policy's order) and creates the counters
// of the outcomes known in advance.
func (rc *routeCounters) init(m *serverMetrics, routes []string, known []authz.RouteDenial) {
	rc.m = m
	rc.names = append(append([]string(nil), routes...), "none")
	rc.byRoute = make([]atomic.Pointer[map[string]*metrics.Counter], len(rc.names))
	rc.allowed = make([][len(allowedReasons)]atomic.Pointer[stripedCounter], len(rc.names))
	for i := range rc.byRoute {
		m := map[string]*metrics.Counter{}
		rc.byRoute[i].Store(&m)
	}
	index := map[string]int{"": len(rc.names) - 1}
	for i, n := range routes {
		index[n] = i
	}
	for _, rd := range known {
		rc.counter(index[rd.Route], rd.Denial.Status(), rd.Denial.Reason())
	}
}

// inc counts a decision of route i (-1: none).
func (rc *routeCounters) inc(s, i, status int, reason string) {
	if i < 0 || i >= len(rc.byRoute)-1 {
		i = len(rc.byRoute) - 1
	}
	if status == 200 {
		for k, r := range allowedReasons {
			if r == reason {
				c := rc.allowed[i][k].Load()
				if c == nil {
					c = rc.m.stripedCounter(rc.sampleName(i, status, reason))
					rc.allowed[i][k].Store(c)
				}
				c.IncAt(s)
				return
			}
		}
	}
	if c := (*rc.byRoute[i].Load())[reason]; c != nil {
		c.Inc()
		return
	}
	rc.counter(i, status, reason).Inc()
}

// counter returns the counter of route i and reason, creating it.
func (rc *routeCounters) counter(i, status int, reason string) *metrics.Counter {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	old := rc.byRoute[i].Load()
	if c := (*old)[reason]; c != nil {
		return c
	}
	m := make(map[string]*metrics.Counter, len(*old)+1)
	for k, v := range *old {
		m[k] = v
	}
	c := rc.m.set.GetOrCreateCounter(rc.sampleName(i, status, reason))
	m[reason] = c
	rc.byRoute[i].Store(&m)
	return c
}

// sampleName is the name, with labels, of the counter of route i and reason.
func (rc *routeCounters) sampleName(i, status int, reason string) string {
	return fmt.Sprintf(`%s{route="%s",outcome=%q,reason=%q}`, metricRouteRequests, labelValue(rc.names[i]), Outcome(status), reason)
}

// register makes the counter of a reason known before serving. Once the
// metrics serve requests (sealed: a reloaded generation registers on the
// metrics of the one serving), known is read without a lock and never
// written: a new reason goes to extra.
func (m *serverMetrics) register(e endpoint, status int, reason string) {
	if _, ok := m.known[e][reason]; ok {
		return
	}
	c := m.set.GetOrCreateCounter(requestsName(e, status, reason))
	if !m.sealed {
		m.known[e][reason] = c
		return
	}
	m.extraMu.Lock()
	m.extra[e][reason] = c
	m.extraMu.Unlock()
}

// denied counts a refusal.
func (m *serverMetrics) denied(e endpoint, d *denial) {
	if c := m.known[e][d.Reason()]; c != nil {
		c.Inc()
		return
	}
	m.extraMu.Lock()
	c := m.extra[e][d.Reason()]
	if c == nil {
		c = m.set.GetOrCreateCounter(requestsName(e, d.Status(), d.Reason()))
		m.extra[e][d.Reason()] = c
	}
	m.extraMu.Unlock()
	c.Inc()
}

// latencyBounds are the upper bounds of the verify latency buckets: a
// cache hit takes about 100 ns, an RSA verify tens of µs, a key refetch up
// to the fetch timeout.
var latencyBounds = []time.Duration{
	100 * time.Nanosecond, 250 * time.Nanosecond, 500 * time.Nanosecond,
	time.Microsecond, 2500 * time.Nanosecond, 5 * time.Microsecond,
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond,
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 5 * time.Millisecond, 25 * time.Millisecond,
	100 * time.Millisecond, 500 * time.Millisecond, time.Second, 5 * time.Second,
}

// latencyHistogram is a Prometheus histogram updated with atomic adds only,
// striped as stripedCounter is: each shard holds a count per bucket (then
// +Inf) and the sum, padded to whole cache lines. Observations are in ticks
// of its clock (the time-stamp counter where there is one: see
// ticks.Counter), compared with the bounds converted once; only the page
// converts back to seconds.
type latencyHistogram struct {
	clock  ticks.Clock
	bounds []time.Duration // for the page
	limits []int64         // bounds in ticks of clock
	stride int             // words per shard
	words  []atomic.Uint64 // shard s: counts at s*stride, the sum (in ticks) after them
}

func (h *latencyHistogram) init(bounds []time.Duration, clock ticks.Clock) {
	const perLine = cacheLine / 8
	h.clock, h.bounds = clock, bounds
	h.limits = make([]int64, len(bounds))
	for i, b := range bounds {
		h.limits[i] = clock.Ticks(b)
	}
	h.stride = (len(bounds) + 2 + perLine - 1) / perLine * perLine
	h.words = make([]atomic.Uint64, numShards*h.stride)
}

// observe records a duration of t ticks (t >= 0) on shard s (see
// newShard), in [0, numShards).
func (h *latencyHistogram) observe(t int64, s int) {
	i := 0
	for i < len(h.limits) && t > h.limits[i] {
		i++
	}
	base := s * h.stride
	h.words[base+i].Add(1)
	h.words[base+len(h.limits)+1].Add(uint64(t))
}

// count returns the count of bucket i (len(bounds): +Inf), not cumulative.
func (h *latencyHistogram) count(i int) uint64 {
	var n uint64
	for base := 0; base < len(h.words); base += h.stride {
		n += h.words[base+i].Load()
	}
	return n
}

// sum returns the sum of the observations.
func (h *latencyHistogram) sum() time.Duration {
	return h.clock.Duration(int64(h.count(len(h.bounds) + 1)))
}

func (h *latencyHistogram) write(w io.Writer, name string) {
	writeFamilyHeader(w, name)
	var cum uint64
	for i, b := range h.bounds {
		cum += h.count(i)
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(b.Seconds(), 'g', -1, 64), cum)
	}
	cum += h.count(len(h.bounds))
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n", name, cum)
	fmt.Fprintf(w, "%s_sum %s\n", name, strconv.FormatFloat(h.sum().Seconds(), 'g', -1, 64))
	fmt.Fprintf(w, "%s_count %d\n", name, cum)
}

// writeCacheMetrics writes the counters of the verified-token cache, which
// serves every issuer (nothing when it is off).
func writeCacheMetrics(w io.Writer, c *engine.Cache) {
	if c == nil {
		return
	}
	st := c.Stats()
	s := cacheStats{st.Hits, st.Misses, st.Inserts, st.Evictions, st.Invalidations, uint64(st.Entries), uint64(st.Bytes)}
	for f, field := range cacheFields {
		writeFamilyHeader(w, field.family)
		fmt.Fprintf(w, "%s %d\n", field.family, s[f])
	}
}

// cacheStats are engine.CacheStats in cacheFields order.
type cacheStats [7]uint64

var cacheFields = [7]struct{ family string }{
	{family(metricCachePrefix+"hits_total", typeCounter, "Tokens answered from the verified-token cache, without cryptography.")},
	{family(metricCachePrefix+"misses_total", typeCounter, "Tokens not found in the verified-token cache.")},
	{family(metricCachePrefix+"inserts_total", typeCounter, "Verified tokens added to the cache.")},
	{family(metricCachePrefix+"evictions_total", typeCounter, "Cache entries evicted to stay within the entry or byte limit.")},
	{family(metricCachePrefix+"invalidations_total", typeCounter, "Cache entries dropped because their key was removed or rotated.")},
	{family(metricCachePrefix+"entries", typeGauge, "Tokens in the verified-token cache now, of every issuer.")},
	{family(metricCachePrefix+"bytes", typeGauge, "Bytes the verified-token cache entries hold now, every byte an entry keeps.")},
}

// labelValue escapes a Prometheus label value.
func labelValue(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return r.Replace(s)
}
