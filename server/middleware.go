package server

import (
	"context"
	"net/http"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
)

// Middleware verifies the token of every request before the wrapped handler
// runs, for programs that embed jwtgate instead of calling its server. A
// request without a valid token gets the same answer as /auth (401 or 403
// with an RFC 6750 challenge and a small JSON body) and never reaches the
// handler; otherwise the handler finds the verified token with
// TokenFromContext (net/http) or TokenFromRequestCtx (fasthttp).
//
// The token and its claims are valid only while the handler runs: they live
// in pooled memory reused by later requests. Copy what must outlive the
// request (Claims.Decode copies custom claims into a struct).
type Middleware struct {
	// Verifier checks the tokens. Required.
	Verifier *engine.Verifier
	// Realm is the realm of the WWW-Authenticate challenge (default "jwtgate").
	Realm string
	// Sources says where the token is read (default: Authorization: Bearer).
	Sources TokenSources
	// StripHeaders are request headers removed before the handler runs:
	// name here any header the handler trusts as identity (X-Auth-Subject,
	// ...), so that a client cannot send a forged copy.
	StripHeaders []string
}

type tokenKey struct{}

var middlewarePool = sync.Pool{New: func() any { return new(engine.Token) }}

func (m *Middleware) realm() string {
	if m.Realm == "" {
		return "jwtgate"
	}
	return m.Realm
}

// HTTP wraps a net/http handler.
func (m *Middleware) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range m.StripHeaders {
			r.Header.Del(h)
		}
		raw, d := m.Sources.extractHTTP(r)
		if d != nil {
			m.denyHTTP(w, d)
			return
		}
		t := middlewarePool.Get().(*engine.Token)
		defer middlewarePool.Put(t)
		if err := m.Verifier.Verify(raw, t); err != nil {
			dv := denialOf(err, "")
			m.denyHTTP(w, &dv)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
	})
}

func (m *Middleware) denyHTTP(w http.ResponseWriter, d *denial) {
	h := w.Header()
	if d.code != "" || d.status == 401 {
		h.Set("WWW-Authenticate", string(appendChallenge(nil, m.realm(), d)))
	}
	h.Set("Content-Type", contentJSON)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(d.status)
	w.Write(appendDenialJSON(nil, d, false)) //nolint:errcheck // the client is gone
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
	return func(ctx *fasthttp.RequestCtx) {
		for _, h := range m.StripHeaders {
			ctx.Request.Header.Del(h)
		}
		x := exchangePool.Get().(*exchange)
		defer exchangePool.Put(x)
		raw, d := m.Sources.extract(&ctx.Request.Header, ctx.URI().QueryString(), &x.args)
		if d == nil {
			if err := m.Verifier.Verify(raw, &x.tok); err != nil {
				dv := denialOf(err, "")
				d = &dv
			}
		}
		if d != nil {
			ctx.SetStatusCode(d.status)
			if d.code != "" || d.status == 401 {
				x.buf = appendChallenge(x.buf[:0], m.realm(), d)
				ctx.Response.Header.SetCanonical(hdrWWWAuthenticate, x.buf)
			}
			ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
			ctx.SetContentType(contentJSON)
			x.buf = appendDenialJSON(x.buf[:0], d, false)
			ctx.SetBody(x.buf)
			return
		}
		ctx.SetUserValue(tokenKey{}, &x.tok)
		defer ctx.RemoveUserValue(tokenKey{})
		next(ctx)
	}
}

// TokenFromRequestCtx returns the verified token of a request that passed
// the fasthttp middleware, or nil.
func TokenFromRequestCtx(ctx *fasthttp.RequestCtx) *engine.Token {
	t, _ := ctx.UserValue(tokenKey{}).(*engine.Token)
	return t
}
