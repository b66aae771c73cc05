package server

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

// handler answers every endpoint of the server.
type handler struct {
	realm      string
	verifier   *engine.Verifier
	scopes     []string // required scopes of each policy, for the 403 scope attribute
	sources    TokenSources
	identity   *identity
	rules      *ruleSet
	origin     *origin
	needOrigin bool // rules, or a query token source, need the original URI
	metrics    *serverMetrics
	// framingRefused counts requests refused for ambiguous framing
	// (jwtgate_http_refused_total{reason="ambiguous_framing"}).
	framingRefused *metrics.Counter
	ready          func() bool
	readyDetail    func(dst []byte) []byte // JSON array of issuer states for /readyz; may be nil
	logger         *slog.Logger
	logRequests    bool
	jwks           []byte // served at /.well-known/jwks.json in demo mode
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
	h := &handler{
		realm:       cfg.Realm,
		verifier:    deps.verifier,
		sources:     sourcesOf(&cfg.Tokens),
		identity:    newIdentity(&cfg.Identity),
		rules:       newRuleSet(cfg.Rules),
		origin:      newOrigin(&cfg.ForwardAuth),
		metrics:     deps.metrics,
		ready:       deps.ready,
		logger:      deps.logger,
		logRequests: cfg.Log.Requests,
	}
	for _, p := range deps.verifier.Policies() {
		h.scopes = append(h.scopes, strings.Join(p.RequiredScopes, " "))
	}
	h.needOrigin = !h.rules.empty() || h.sources.Query != ""
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
	h.registerReasons()
	h.framingRefused = h.metrics.set.GetOrCreateCounter(metricHTTPRefused + `{reason="ambiguous_framing"}`)
	return h, nil
}

// sourcesOf translates the token sources of the configuration.
func sourcesOf(t *config.Tokens) TokenSources {
	return TokenSources{
		NoAuthorization: !t.AuthorizationEnabled(),
		Header:          t.Header,
		HeaderPrefix:    t.HeaderPrefix,
		Cookie:          t.Cookie,
		Query:           t.Query,
	}
}

// exchange is the per-request scratch memory, pooled so that a request
// allocates nothing once the pool is warm.
type exchange struct {
	tok    engine.Token
	buf    []byte
	args   fasthttp.Args
	orig   request
	issuer string // the issuer whose verifier checked the token, for the request log
}

var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

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
func (h *handler) serve(ctx *fasthttp.RequestCtx) {
	if !framingOK(ctx.Request.Header.RawHeaders()) {
		h.refuseFraming(ctx)
		return
	}
	path, query, ok := rawPath(ctx.Request.Header.RequestURI())
	switch targetOf(path, ok, h.jwks != nil) {
	case targetAuth:
		h.auth(ctx, path, query)
	case targetVerify:
		h.verify(ctx)
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
func (h *handler) auth(ctx *fasthttp.RequestCtx, path, query []byte) {
	x := exchangePool.Get().(*exchange)
	defer exchangePool.Put(x)
	req := &ctx.Request
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	x.issuer = ""

	x.orig.known = false
	if h.needOrigin {
		if d := h.origin.resolveURI(req, path, query, x); d != nil {
			h.deny(ctx, x, endpointAuth, d)
			return
		}
		if x.orig.known {
			query = x.orig.query
		}
	}
	tok, d := h.sources.extract(&req.Header, query, &x.args)
	if d != nil {
		h.deny(ctx, x, endpointAuth, d)
		return
	}
	if err := h.verifyToken(tok, x); err != nil {
		dv := denialOf(err, h.scopeOf(&x.tok))
		h.deny(ctx, x, endpointAuth, &dv)
		return
	}
	if !h.rules.empty() {
		if d := h.applyRules(req, x); d != nil {
			h.deny(ctx, x, endpointAuth, d)
			return
		}
	}
	if !h.identity.empty() {
		block := x.tok.Attachment()
		if block == nil {
			var d *denial
			x.buf, d = h.identity.build(x.buf[:0], &x.tok, tok)
			if d != nil {
				h.deny(ctx, x, endpointAuth, d)
				return
			}
			block = x.buf
			if h.verifier.Cache() != nil {
				h.verifier.Attach(&x.tok, bytes.Clone(block))
			}
		}
		h.identity.write(&ctx.Response.Header, block)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	h.metrics.authOK.Inc()
	if h.logRequests {
		h.logRequest(ctx, x, endpointAuth, fasthttp.StatusOK, "ok")
	}
}

// verifyToken verifies tok into x.tok, timing it for the latency
// histogram, and notes the issuer whose policy judged it.
func (h *handler) verifyToken(tok []byte, x *exchange) error {
	start := time.Now()
	err := h.verifier.Verify(tok, &x.tok)
	h.metrics.verify.observe(time.Since(start))
	x.issuer = x.tok.PolicyIssuer()
	return err
}

// scopeOf returns the scopes required by the policy that judged t.
func (h *handler) scopeOf(t *engine.Token) string {
	if i := t.PolicyIndex(); i >= 0 {
		return h.scopes[i]
	}
	return ""
}

// applyRules checks the rule for the original request, if any.
func (h *handler) applyRules(req *fasthttp.Request, x *exchange) *denial {
	if !x.orig.known {
		return errURIUnknown
	}
	if h.rules.needsMethod() {
		if d := h.origin.resolveMethod(req, x); d != nil {
			return d
		}
	}
	if r := h.rules.match(x.orig.path, x.orig.method); r != nil {
		return r.check(&x.tok)
	}
	return nil
}

// deny answers a refusal: the status, the challenge (none for a 403 that is
// not about the token), and a small JSON body. It never echoes the token.
func (h *handler) deny(ctx *fasthttp.RequestCtx, x *exchange, e endpoint, d *denial) {
	ctx.SetStatusCode(d.status)
	if e == endpointAuth && (d.code != "" || d.status == 401) {
		x.buf = appendChallenge(x.buf[:0], h.realm, d)
		ctx.Response.Header.SetCanonical(hdrWWWAuthenticate, x.buf)
	}
	ctx.SetContentType(contentJSON)
	x.buf = appendDenialJSON(x.buf[:0], d, e == endpointVerify)
	ctx.SetBody(x.buf)
	h.metrics.denied(e, d)
	if h.logRequests {
		h.logRequest(ctx, x, e, d.status, d.reason)
	}
}
