package authz

import (
	"sync/atomic"

	"github.com/jwtgate/jwtgate/engine"
)

// Request is what Decide knows of a request: the original request's method,
// host, path and query, and its headers. The byte slices may point into the
// front end's buffers; they are read only while Decide runs.
type Request struct {
	// Method is the original request's method, e.g. "GET".
	Method []byte
	// Host is the original request's host, as sent (a port and a trailing
	// dot are ignored).
	Host []byte
	// Path is the original request's path as NormalizePath returns it.
	// nil when the front end cannot tell it: then a route table that
	// matches on paths refuses the request (DenialURIUnknown).
	Path []byte
	// Query is the original request's raw query string, without '?'; the
	// query token source reads it.
	Query []byte
	// Headers reads the request headers.
	Headers HeaderSource
}

// Verifier verifies the tokens Decide finds. Engine is the Verifier of one
// engine.Verifier, Issuers that of several issuers.
type Verifier interface {
	// Verify verifies token into st.Token (st's other memory is the
	// package's). scope is the space-separated scopes the token's issuer
	// requires, for the scope attribute of the refusal when err is
	// engine.ErrScope (it may be "" otherwise).
	Verify(token []byte, st *State) (scope string, err error)
	// Keeps reports whether the token just verified into t went into a
	// cache, where Attach can leave a block for later requests.
	Keeps(t *engine.Token) bool
	// Attach keeps a copy of block, 8-byte aligned, with the cache entry of
	// the token just verified into t, for t.Attachment to return on later
	// hits (as engine.Verifier.Attach does). block is Decide's scratch: it
	// must not be kept. The copy is never handed out by Decide, except for
	// atomic updates of its memo.
	Attach(t *engine.Token, block []byte)
}

// Engine is the Verifier of one engine.Verifier. Use it as a pointer, made
// once: converting the struct to the interface on every request would
// allocate.
type Engine struct {
	Verifier *engine.Verifier
	// Scope is the space-separated scopes the verifier's policy requires.
	Scope string
}

// Verify verifies token with e.Verifier into st.Token.
func (e *Engine) Verify(token []byte, st *State) (string, error) {
	return e.Scope, e.Verifier.Verify(token, &st.Token)
}

// Keeps reports whether e.Verifier has a token cache.
func (e *Engine) Keeps(*engine.Token) bool { return e.Verifier.Cache() != nil }

// Attach attaches block to the token's cache entry.
func (e *Engine) Attach(t *engine.Token, block []byte) { e.Verifier.Attach(t, block) }

// State is the per-request memory of Decide. Reuse one per goroutine, or
// pool them: once a State has grown to a request's size, deciding allocates
// nothing. The Decision and the Token it returns live in the State and are
// valid until the State is used again.
type State struct {
	// Token receives the verified token.
	Token engine.Token
	// Issuer is the issuer whose policy judged the token, as Issuers
	// sets it ("" before that, or with another Verifier): for request logs.
	Issuer string

	vals     [][]byte
	scratch  []byte
	query    []byte
	block    []byte
	verified Denial
	decision Decision
}

// Outcomes of an allowed request, as Decision.Reason reports them.
const (
	ReasonAllowed   = "allowed"   // a valid token met the route's requirements
	ReasonAnonymous = "anonymous" // an optional route, no token
	ReasonPublic    = "public"    // a public route
	ReasonPreflight = "preflight" // a CORS preflight let through without a token
)

// Decision is the answer to one request.
type Decision struct {
	// Allowed reports whether the request may pass.
	Allowed bool
	// Denial is why it may not (nil when Allowed).
	Denial *Denial
	// Token is the verified token of an allowed request, or nil when none
	// was verified (public and anonymous requests, preflights).
	Token *engine.Token

	reason string
	route  *route
	block  []byte
	policy *Policy
}

// Status returns the HTTP status of the answer: 200, 401 or 403.
func (d *Decision) Status() int {
	if d.Allowed {
		return 200
	}
	return d.Denial.status
}

// Reason returns the stable reason: one of the Reason* outcomes when
// allowed, else the denial's reason.
func (d *Decision) Reason() string {
	if d.Allowed {
		return d.reason
	}
	return d.Denial.reason
}

// Route returns the name of the route that decided, or "" when none could
// be chosen.
func (d *Decision) Route() string {
	if d.route == nil {
		return ""
	}
	return d.route.name
}

// RouteIndex returns the position of the route that decided in
// Policy.Routes (the default route is the last), or -1.
func (d *Decision) RouteIndex() int {
	if d.route == nil {
		return -1
	}
	return d.route.index
}

// VisitHeaders calls fn with the name and value of every identity header of
// an allowed request. Every configured header is visited, with an empty
// value when its claim is absent or no token was verified, so that a proxy
// that copies them replaces whatever the client sent. The slices are valid
// until the State is reused.
func (d *Decision) VisitHeaders(fn func(name, value []byte)) {
	if !d.Allowed {
		return
	}
	d.policy.identity.visit(d.block, fn)
}

// Decide finds the request's route and token, verifies the token with v
// when the route needs it, applies the route's requirements, and computes
// the identity headers. It allocates nothing once st has grown (except what
// v does: an engine.Verifier stores a token in its cache once).
func (pol *Policy) Decide(req *Request, v Verifier, st *State) *Decision {
	d := &st.decision
	*d = Decision{policy: pol}
	st.Issuer = ""
	if pol.needPath && req.Path == nil {
		return pol.unrouted(d, req, v, st)
	}
	if pol.preflight && string(req.Method) == "OPTIONS" {
		if r := pol.preflightRoute(req, st); r != nil {
			if _, den := pol.sources.extract(req, st); den == DenialNoToken {
				d.route, d.Allowed, d.reason = r, true, ReasonPreflight
				return d
			}
		}
	}
	r := pol.match(req.Host, req.Path, req.Method)
	d.route = r
	if r.access == accessPublic {
		d.Allowed, d.reason = true, ReasonPublic
		return d
	}
	tok, den := pol.sources.extract(req, st)
	if den != nil {
		if den == DenialNoToken && r.access == accessOptional {
			d.Allowed, d.reason = true, ReasonAnonymous
			return d
		}
		return d.deny(r, den)
	}
	scope, err := v.Verify(tok, st)
	if err != nil {
		st.verified = DenialOf(err, scope)
		return d.deny(r, &st.verified)
	}
	return pol.authorize(d, r, &st.Token, tok, v, st)
}

// unrouted answers a request whose route cannot be chosen (its path is
// unknown): a missing or bad token is refused as such, as on a required
// route; a valid one gets DenialURIUnknown.
func (pol *Policy) unrouted(d *Decision, req *Request, v Verifier, st *State) *Decision {
	tok, den := pol.sources.extract(req, st)
	if den != nil {
		return d.deny(nil, den)
	}
	scope, err := v.Verify(tok, st)
	if err != nil {
		st.verified = DenialOf(err, scope)
		return d.deny(nil, &st.verified)
	}
	return d.deny(nil, DenialURIUnknown)
}

// Check decides for a request whose token the caller has already verified
// into t (raw is the token as sent, read by the payload header): it matches
// the route and applies its requirements and computes the identity headers;
// a public route allows without looking at t. It does not read the
// request's headers (Request.Headers may be nil) and allocates nothing once
// st has grown.
func (pol *Policy) Check(req *Request, t *engine.Token, raw []byte, st *State) *Decision {
	d := &st.decision
	*d = Decision{policy: pol}
	if pol.needPath && req.Path == nil {
		return d.deny(nil, DenialURIUnknown)
	}
	r := pol.match(req.Host, req.Path, req.Method)
	d.route = r
	if r.access == accessPublic {
		d.Allowed, d.reason = true, ReasonPublic
		return d
	}
	return pol.authorize(d, r, t, raw, nil, st)
}

// authorize applies the route's requirements to the verified token t and
// computes its identity headers: from the block kept with the token's cache
// entry when it holds one of this policy, else from a block built now (and
// kept through v, when it can be).
func (pol *Policy) authorize(d *Decision, r *route, t *engine.Token, raw []byte, v Verifier, st *State) *Decision {
	if den := r.check(t); den != nil {
		return d.deny(r, den)
	}
	if !pol.needBlock {
		d.Allowed, d.Token, d.reason = true, t, ReasonAllowed
		return d
	}
	block := t.Attachment()
	var idDen *Denial
	if pol.owns(block) {
		if den := pol.satisfiedMemo(r, t, block, st); den != nil {
			return d.deny(r, den)
		}
	} else {
		attached := block != nil
		st.block, idDen = pol.buildBlock(st.block[:0], t, raw, &st.scratch)
		block = st.block
		if r.require != nil {
			view := pol.view(t, block)
			if den := r.require.satisfied(&view, &st.scratch); den != nil {
				return d.deny(r, den)
			}
		}
		if idDen != nil {
			return d.deny(r, idDen)
		}
		if v != nil && !attached && v.Keeps(t) {
			v.Attach(t, block)
		}
	}
	d.block = block[pol.blockHeader:]
	d.Allowed, d.Token, d.reason = true, t, ReasonAllowed
	return d
}

// satisfiedMemo applies the route's conditions to a token whose block is
// kept with its cache entry: the first request evaluates them and writes
// the outcome to the route's memo word; later ones read it.
func (pol *Policy) satisfiedMemo(r *route, t *engine.Token, block []byte, st *State) *Denial {
	if r.require == nil {
		return nil
	}
	if r.memo < 0 {
		view := pol.view(t, block)
		return r.require.satisfied(&view, &st.scratch)
	}
	word := pol.memoWord(block, r)
	switch w := atomic.LoadUint32(word); {
	case w == 1:
		return nil
	case w >= 2 && int(w-2) < len(r.denials):
		return r.denials[w-2]
	}
	view := pol.view(t, block)
	den := r.require.satisfied(&view, &st.scratch)
	w := uint32(1)
	if den != nil {
		for k, x := range r.denials {
			if x == den {
				w = uint32(k + 2)
			}
		}
	}
	atomic.StoreUint32(word, w)
	return den
}

func (d *Decision) deny(r *route, den *Denial) *Decision {
	d.route, d.Denial, d.Allowed, d.Token, d.block = r, den, false, nil, nil
	return d
}

// preflightRoute returns the route of a CORS preflight that may pass
// without a token, or nil: the request must carry Origin and
// Access-Control-Request-Method, and the route matched with the requested
// method must let preflights through.
func (pol *Policy) preflightRoute(req *Request, st *State) *route {
	st.vals = req.Headers.AppendValues(st.vals[:0], hdrOrigin)
	if len(st.vals) == 0 {
		return nil
	}
	st.vals = req.Headers.AppendValues(st.vals[:0], hdrACRM)
	if len(st.vals) != 1 {
		return nil
	}
	m := trimSpace(st.vals[0])
	if len(m) == 0 {
		return nil
	}
	r := pol.match(req.Host, req.Path, m)
	if !r.preflight {
		return nil
	}
	return r
}

// IsLookAlike reports whether a request header named name could be taken by
// an upstream for one of the identity headers: it equals one once case is
// ignored and every character but a letter or a digit reads as '-'
// (X_Auth_Subject, X.Auth.Subject, X~Auth~Subject: CGI, WSGI, PHP and
// nginx-variable backends read them all as X-Auth-Subject). A front end that forwards the
// request itself (middleware, a gRPC ext_authz answer's headers_to_remove,
// a Caddy handler) removes every such header the client sent.
func (pol *Policy) IsLookAlike(name []byte) bool { return pol.identity.isLookAlike(name) }

// IdentityHeaders returns the canonical names of the identity headers,
// payload header included.
func (pol *Policy) IdentityHeaders() []string { return append([]string(nil), pol.identity.strip...) }

// NeedsPath reports whether some route matches on the request path (a
// front end that must work to find the original path can skip it
// otherwise).
func (pol *Policy) NeedsPath() bool { return pol.needPath }

// NeedsHost reports whether some route matches on the host.
func (pol *Policy) NeedsHost() bool { return pol.needHost }

// NeedsMethod reports whether some route matches on the method, or lets
// CORS preflights through (a front end that must work to find the original
// method can skip it otherwise).
func (pol *Policy) NeedsMethod() bool { return pol.needMethod }

// TokenHeader returns the canonical name of the configured token header
// (Tokens.Header), or "": with Authorization, Cookie, Origin and
// Access-Control-Request-Method, the headers Decide reads.
func (pol *Policy) TokenHeader() string { return pol.sources.header }

// NeedsQuery reports whether the query token source is configured.
func (pol *Policy) NeedsQuery() bool { return pol.sources.query != "" }
