package server

import (
	"context"
	"net/http"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
)

// Middleware decides every request before the wrapped handler runs, for
// programs that embed jwtgate instead of calling its server: the decision
// is /auth's (the authz package's), from the request's own method, host and
// path. A refused request gets the same answer as /auth (401 or 403 with an
// RFC 6750 challenge and a small JSON body) and never reaches the handler;
// otherwise the identity headers are set on the request, and the handler
// finds the verified token with TokenFromContext (net/http) or
// TokenFromRequestCtx (fasthttp) — nil on a public route, or an optional
// one without a token.
//
// The token and its claims are valid only while the handler runs: they live
// in pooled memory reused by later requests. Copy what must outlive the
// request (Claims.Decode copies custom claims into a struct).
type Middleware struct {
	// Verifier checks the tokens of one issuer. Set it or Verifiers.
	Verifier *engine.Verifier
	// Verifiers, if set, checks the tokens instead (authz.Issuers for
	// several issuers).
	Verifiers authz.Verifier
	// Policy decides each request: where its token is, the route's access
	// and requirements, the identity headers. nil: the token comes from
	// Authorization: Bearer and is required everywhere; no identity
	// headers.
	Policy *authz.Policy
	// Realm is the realm of the WWW-Authenticate challenge (default "jwtgate").
	Realm string
	// StripHeaders are request headers removed before the handler runs,
	// besides the policy's identity headers and their look-alikes (which
	// always are): name here any other header the handler trusts, so that a
	// client cannot send a forged copy.
	StripHeaders []string
}

type tokenKey struct{}

// defaultPolicy is the Policy of a Middleware without one.
var defaultPolicy = sync.OnceValue(func() *authz.Policy {
	pol, err := authz.Compile(&authz.Config{Identity: authz.Identity{Headers: []authz.IdentityHeader{}}}, authz.Options{})
	if err != nil {
		panic("server: the default middleware policy does not compile: " + err.Error())
	}
	return pol
})

// setup returns the policy and the verifier of the middleware.
func (m *Middleware) setup() (*authz.Policy, authz.Verifier) {
	pol := m.Policy
	if pol == nil {
		pol = defaultPolicy()
	}
	v := m.Verifiers
	if v == nil {
		if m.Verifier == nil {
			panic("server: Middleware needs a Verifier or Verifiers")
		}
		v = &authz.Engine{Verifier: m.Verifier}
	}
	return pol, v
}

func (m *Middleware) realm() string {
	if m.Realm == "" {
		return "jwtgate"
	}
	return m.Realm
}

// httpState is the per-request memory of the net/http middleware.
type httpState struct {
	st   authz.State
	path []byte
}

var httpStatePool = sync.Pool{New: func() any { return new(httpState) }}

// HTTP wraps a net/http handler.
func (m *Middleware) HTTP(next http.Handler) http.Handler {
	pol, v := m.setup()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range m.StripHeaders {
			r.Header.Del(h)
		}
		for name := range r.Header {
			if pol.IsLookAlike(bytesOf(name)) {
				delete(r.Header, name)
			}
		}
		s := httpStatePool.Get().(*httpState)
		defer httpStatePool.Put(s)
		req := authz.Request{Method: bytesOf(r.Method), Host: bytesOf(r.Host), Headers: httpHeaders(r.Header)}
		path, query, ok := rawPath(bytesOf(r.RequestURI))
		if r.RequestURI == "" { // a request made in process, not read from a connection
			path, query, ok = bytesOf(r.URL.EscapedPath()), bytesOf(r.URL.RawQuery), true
		}
		req.Query = query
		if pol.NeedsPath() {
			if s.path, ok = authz.NormalizePath(s.path[:0], path); !ok {
				m.denyHTTP(w, authz.DenialURIEncoding)
				return
			}
			req.Path = s.path
		}
		dec := pol.Decide(&req, v, &s.st)
		if !dec.Allowed {
			m.denyHTTP(w, dec.Denial)
			return
		}
		dec.VisitHeaders(func(name, value []byte) {
			if len(value) > 0 {
				r.Header.Set(string(name), string(value))
			}
		})
		ctx := r.Context()
		if dec.Token != nil {
			ctx = context.WithValue(ctx, tokenKey{}, dec.Token)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (m *Middleware) denyHTTP(w http.ResponseWriter, d *denial) {
	h := w.Header()
	if d.Challenges() {
		h.Set("WWW-Authenticate", string(d.AppendChallenge(nil, m.realm())))
	}
	h.Set("Content-Type", contentJSON)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(d.Status())
	w.Write(d.AppendJSON(nil, false)) //nolint:errcheck // the client is gone
}

// TokenFromContext returns the verified token of a request that passed the
// net/http middleware, or nil.
func TokenFromContext(ctx context.Context) *engine.Token {
	t, _ := ctx.Value(tokenKey{}).(*engine.Token)
	return t
}

// FastHTTP wraps a fasthttp handler. The verified token is a user value of
// the request, removed when the handler returns; a handler must not use it
// from another goroutine after returning.
func (m *Middleware) FastHTTP(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	pol, v := m.setup()
	names := newHeaderNames(pol.TokenHeader())
	return func(ctx *fasthttp.RequestCtx) {
		hdr := &ctx.Request.Header
		for _, h := range m.StripHeaders {
			hdr.Del(h)
		}
		x := exchangePool.Get().(*exchange)
		defer exchangePool.Put(x)
		stripLookAlikes(hdr, pol, x)
		r := &x.req
		*r = authz.Request{Method: hdr.Method(), Host: hdr.Host()}
		path, query, ok := rawPath(hdr.RequestURI())
		r.Query = query
		if pol.NeedsPath() {
			if ok {
				x.orig.path, ok = authz.NormalizePath(x.orig.path[:0], path)
			}
			if !ok {
				m.denyFast(ctx, x, authz.DenialURIEncoding)
				return
			}
			r.Path = x.orig.path
		}
		x.headers.reset(names, hdr)
		r.Headers = &x.headers
		dec := pol.Decide(r, v, &x.st)
		if !dec.Allowed {
			m.denyFast(ctx, x, dec.Denial)
			return
		}
		dec.VisitHeaders(func(name, value []byte) {
			if len(value) > 0 {
				hdr.SetCanonical(name, value)
			}
		})
		if dec.Token != nil {
			ctx.SetUserValue(tokenKey{}, dec.Token)
			defer ctx.RemoveUserValue(tokenKey{})
		}
		next(ctx)
	}
}

// stripLookAlikes removes the request headers an upstream could take for an
// identity header.
func stripLookAlikes(hdr *fasthttp.RequestHeader, pol *authz.Policy, x *exchange) {
	x.buf = x.buf[:0]
	for name := range hdr.All() {
		if pol.IsLookAlike(name) {
			x.buf = append(append(x.buf, name...), 0)
		}
	}
	for b := x.buf; len(b) > 0; {
		i := 0
		for b[i] != 0 {
			i++
		}
		hdr.DelBytes(b[:i])
		b = b[i+1:]
	}
}

func (m *Middleware) denyFast(ctx *fasthttp.RequestCtx, x *exchange, d *denial) {
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	x.buf = writeRefusal(ctx, x.buf, d, m.realm(), true, false)
}

// TokenFromRequestCtx returns the verified token of a request that passed
// the fasthttp middleware, or nil.
func TokenFromRequestCtx(ctx *fasthttp.RequestCtx) *engine.Token {
	t, _ := ctx.UserValue(tokenKey{}).(*engine.Token)
	return t
}
