package server

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

// handler answers every endpoint of the server.
type handler struct {
	realm      string
	policy     *authz.Policy    // token sources, routes, identity headers
	verifier   *engine.Verifier // every issuer's policy and keys, one token cache
	issuers    *authz.Issuers   // verifier, for the decision
	timed      timedVerifier    // issuers, timed for the latency histogram
	routes     routeCounters    // /auth decisions by route
	origin     *origin
	headers    *headerNames // the request headers the handler reads
	needOrigin bool         // the routes, or a query token source, need the original URI
	metrics    *serverMetrics
	// framingRefused counts requests refused for ambiguous framing
	// (jwtgate_http_refused_total{reason="ambiguous_framing"}).
	framingRefused *metrics.Counter
	ready          func() bool
	readyDetail    func(dst []byte) []byte // JSON array of issuer states for /readyz; may be nil
	logger         *slog.Logger
	logRequests    bool
	jwks           []byte // served at /.well-known/jwks.json in demo mode
	// arrivalTime: tokens are judged at their request's arrival time
	// (RequestCtx.Time), the system clock's reading fasthttp takes for
	// every request; false when the server runs on another clock (tests).
	arrivalTime bool
}

// handlerDeps are what a handler needs besides its configuration.
type handlerDeps struct {
	verifier *engine.Verifier
	ready    func() bool
	clock    engine.Clock
	logger   *slog.Logger
	// metrics, if set, are the server's, shared by its generations (see
	// Reload); nil: the handler's own, with its cache metrics.
	metrics *serverMetrics
}

func newHandler(cfg *config.Config, deps handlerDeps) (*handler, error) {
	if cfg.Policy() == nil {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	h := &handler{
		realm:       cfg.Realm,
		policy:      cfg.Policy(),
		verifier:    deps.verifier,
		issuers:     authz.NewIssuers(deps.verifier),
		headers:     newHeaderNames(cfg.Policy().TokenHeader()),
		metrics:     deps.metrics,
		ready:       deps.ready,
		logger:      deps.logger,
		logRequests: cfg.Log.Requests,
		arrivalTime: deps.clock == nil || deps.clock == engine.SystemClock,
	}
	h.origin = newOrigin(&cfg.ForwardAuth, h.headers)
	h.needOrigin = h.policy.NeedsPath() || h.policy.NeedsQuery()
	if h.ready == nil {
		h.ready = func() bool { return true }
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if h.metrics == nil {
		h.metrics = newServerMetrics()
		h.metrics.set.RegisterMetricsWriter(func(w io.Writer) { writeCacheMetrics(w, h.verifier.Cache()) })
	}
	h.timed = timedVerifier{issuers: h.issuers, latency: &h.metrics.verify}
	h.registerReasons()
	h.framingRefused = h.metrics.set.GetOrCreateCounter(metricHTTPRefused + `{reason="ambiguous_framing"}`)
	return h, nil
}

// timedVerifier is the issuers' verifier, timing each verification for the
// latency histogram.
type timedVerifier struct {
	issuers *authz.Issuers
	latency *latencyHistogram
	shard   int       // the histogram's shard (see newShard)
	now     time.Time // the time to verify at; zero: the verifier's clock
}

var _ authz.Verifier = (*timedVerifier)(nil)

// Verify verifies token with its issuer's verifier.
func (v *timedVerifier) Verify(token []byte, st *authz.State) (string, error) {
	clock := v.latency.clock
	start := clock.Now()
	var scope string
	var err error
	if v.now.IsZero() {
		scope, err = v.issuers.Verify(token, st)
	} else {
		scope, err = v.issuers.VerifyAt(token, v.now, st)
	}
	v.latency.observe(max(clock.Now()-start, 0), v.shard) // below 0: the goroutine moved to a core whose counter is behind
	return scope, err
}

// Keeps reports whether the verifier of t caches tokens.
func (v *timedVerifier) Keeps(t *engine.Token) bool { return v.issuers.Keeps(t) }

// Attach keeps block with the cache entry of t.
func (v *timedVerifier) Attach(t *engine.Token, block []byte) { v.issuers.Attach(t, block) }

// exchange is the per-request scratch memory, pooled so that a request
// allocates nothing once the pool is warm. It owns a shard of the striped
// counters (see newShard): the pool gives each processor back its own
// exchange, so requests on different cores count on different lines.
type exchange struct {
	shard   int
	timed   timedVerifier // the handler's, counting on shard
	st      authz.State   // the decision's memory; st.Token is the verified token
	req     authz.Request
	headers fastHeaders
	buf     []byte
	orig    request
	// verified is the token of an allowed request, for the request log: nil
	// when none was verified (st.Token may hold an earlier request's).
	verified *engine.Token
}

var exchangePool = sync.Pool{New: func() any { return &exchange{shard: newShard()} }}

// timedVerifier returns h's timed verifier for the request of ctx: counting
// on x's shard, and verifying at the request's arrival time when h reads the
// system clock (fasthttp has read it then: verifying reads it no more).
func (x *exchange) timedVerifier(h *handler, ctx *fasthttp.RequestCtx) *timedVerifier {
	x.timed = h.timed
	x.timed.shard = x.shard
	if h.arrivalTime {
		x.timed.now = ctx.Time()
	}
	return &x.timed
}

// Response header names and values.
var (
	hdrWWWAuthenticate = []byte("Www-Authenticate") // fasthttp's canonical form, so that Peek finds it
	hdrCacheControl    = []byte("Cache-Control")
	noStore            = []byte("no-store")
	contentJSON        = "application/json"
)

// serve routes a request to its endpoint on the raw request: a request
// whose framing is ambiguous is refused before anything else (see
// framingOK), then the raw request target picks the endpoint (see
// targetOf); fasthttp's decoded and normalized ctx.Path() is never used.
//
// x is the request's exchange, from exchangePool.
func (h *handler) serve(ctx *fasthttp.RequestCtx, x *exchange) {
	if !framingOK(ctx.Request.Header.RawHeaders()) {
		h.refuseFraming(ctx)
		return
	}
	h.route(ctx, x)
}

// serveHooked is serve on a fasthttp.Server whose HeaderReceived is
// headerReceived, as the Server's own: the hook has scanned the raw header
// block of every request before the handler runs and marked the header of
// one badly framed (see hdrFramingMark), so the block is not scanned again.
func (h *handler) serveHooked(ctx *fasthttp.RequestCtx, x *exchange) {
	if ctx.Request.Header.PeekBytes(hdrFramingMark) != nil {
		h.refuseFraming(ctx)
		return
	}
	h.route(ctx, x)
}

// route answers a request whose framing was found unambiguous, with the
// request's exchange x.
func (h *handler) route(ctx *fasthttp.RequestCtx, x *exchange) {
	path, query, ok := rawPath(ctx.Request.Header.RequestURI())
	switch targetOf(path, ok, h.jwks != nil) {
	case targetAuth:
		h.auth(ctx, x, path, query)
	case targetVerify:
		h.verify(ctx, x)
	case targetHealthz:
		if h.getOnly(ctx) {
			h.healthz(ctx)
		}
	case targetReadyz:
		if h.getOnly(ctx) {
			h.readyz(ctx)
		}
	case targetMetrics:
		if h.getOnly(ctx) {
			h.serveMetrics(ctx)
		}
	case targetJWKS:
		if h.getOnly(ctx) {
			ctx.SetContentType("application/jwk-set+json")
			ctx.SetBody(h.jwks)
		}
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetContentType(contentJSON)
		ctx.SetBodyString(`{"error":"not_found"}` + "\n")
	}
}

// getOnly answers 405 to a method other than GET or HEAD, and reports
// whether the method is one of them.
func (h *handler) getOnly(ctx *fasthttp.RequestCtx) bool {
	if ctx.IsGet() || ctx.IsHead() {
		return true
	}
	methodNotAllowed(ctx, "GET, HEAD", `{"error":"method_not_allowed","description":"use GET or HEAD"}`+"\n")
	return false
}

// methodNotAllowed answers 405 with the Allow header and a JSON body.
func methodNotAllowed(ctx *fasthttp.RequestCtx, allow, body string) {
	ctx.Response.Header.Set("Allow", allow)
	ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
	ctx.SetContentType(contentJSON)
	ctx.SetBodyString(body)
}

// refuseFraming answers a request whose framing is ambiguous: 400, and the
// connection closed, lingering so that the answer reaches a client still
// sending. Whatever follows on the connection — a request smuggled in what
// the sender meant as a body — is never read as a request.
func (h *handler) refuseFraming(ctx *fasthttp.RequestCtx) {
	lingerOnClose(ctx.Conn())
	ctx.SetConnectionClose()
	ctx.SetStatusCode(fasthttp.StatusBadRequest)
	ctx.SetContentType(contentJSON)
	h.framingRefused.Inc()
	ctx.SetBodyString(`{"error":"ambiguous_framing","description":"send either Content-Length (digits only, once) or Transfer-Encoding: chunked (exactly, once), never both, and no folded header lines (RFC 9112)"}` + "\n")
}

// auth is the forward-auth endpoint: /auth and every path under it, any
// method. 200 with identity headers, or 401/403 with an RFC 6750 challenge.
//
// path and query are those of the raw request target (see rawPath): the
// query token source and the path under /auth (Envoy path_prefix) see the
// bytes as received, never fasthttp's decoded ctx.Path().
func (h *handler) auth(ctx *fasthttp.RequestCtx, x *exchange, path, query []byte) {
	req := &ctx.Request
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	x.st.Issuer, x.verified = "", nil

	r := &x.req
	*r = authz.Request{Method: req.Header.Method(), Query: query}
	x.headers.reset(h.headers, &req.Header)
	x.orig.known = false
	if h.needOrigin {
		if d := h.origin.resolveURI(path, query, x); d != nil {
			h.deny(ctx, x, endpointAuth, -1, d)
			return
		}
		if x.orig.known {
			r.Path, r.Query = x.orig.path, x.orig.query
		}
	}
	if h.policy.NeedsMethod() && (r.Path != nil || !h.policy.NeedsPath()) { // an unknown path is refused first
		if d := h.origin.resolveMethod(req, x); d != nil {
			h.deny(ctx, x, endpointAuth, -1, d)
			return
		}
		r.Method = x.orig.method
	}
	if h.policy.NeedsHost() {
		host, d := originHost(req, x)
		if d != nil {
			h.deny(ctx, x, endpointAuth, -1, d)
			return
		}
		r.Host = host
	}
	r.Headers = &x.headers
	dec := h.policy.Decide(r, x.timedVerifier(h, ctx), &x.st)
	if !dec.Allowed {
		h.deny(ctx, x, endpointAuth, dec.RouteIndex(), dec.Denial)
		return
	}
	dec.VisitHeaders(func(name, value []byte) { ctx.Response.Header.SetCanonical(name, value) })
	x.verified = dec.Token
	ctx.SetStatusCode(fasthttp.StatusOK)
	h.metrics.authOK.IncAt(x.shard)
	h.routes.inc(x.shard, dec.RouteIndex(), fasthttp.StatusOK, dec.Reason())
	if h.logRequests {
		h.logRequest(ctx, x, endpointAuth, fasthttp.StatusOK, "ok")
	}
}

// writeRefusal writes a refusal on a fasthttp response, the one writer of
// /auth, /verify and the fasthttp middleware: the status, the challenge
// when challenge is set and the denial has one, and the JSON body (with
// "valid":false when valid is set, as /verify answers). buf is scratch
// memory, returned for reuse; the response copies what it needs.
func writeRefusal(ctx *fasthttp.RequestCtx, buf []byte, d *denial, realm string, challenge, valid bool) []byte {
	ctx.SetStatusCode(d.Status())
	if challenge && d.Challenges() {
		buf = d.AppendChallenge(buf[:0], realm)
		ctx.Response.Header.SetCanonical(hdrWWWAuthenticate, buf)
	}
	ctx.SetContentType(contentJSON)
	buf = d.AppendJSON(buf[:0], valid)
	ctx.SetBody(buf)
	return buf
}

// deny answers a refusal: the status, the challenge (none for a 403 that is
// not about the token), and a small JSON body. It never echoes the token.
// route is the index of the route that refused (-1: none), for metrics.
func (h *handler) deny(ctx *fasthttp.RequestCtx, x *exchange, e endpoint, route int, d *denial) {
	x.buf = writeRefusal(ctx, x.buf, d, h.realm, e == endpointAuth, e == endpointVerify)
	h.metrics.denied(e, d)
	if e == endpointAuth {
		h.routes.inc(x.shard, route, d.Status(), d.Reason())
	}
	if h.logRequests {
		h.logRequest(ctx, x, e, d.Status(), d.Reason())
	}
}
