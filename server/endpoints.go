package server

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
)

var errVerifyBody = newDenial(401, codeInvalidToken, "malformed",
	`the /verify body must be the token, or {"token":"<token>"}; or, with an empty body, send the token in Authorization: Bearer <token>`)

// verify is POST /verify: the body is the token or {"token":"..."}; with an
// empty body, the token of the Authorization header (Bearer, read as /auth
// reads it). It answers 200 {"valid":true,"header":{...},"claims":{...}} or
// 401 {"valid":false,"error":"<RFC 6750 code>","reason":"...","description":"..."}.
//
// With the query parameters path (or uri, a path and query) and optionally
// method (default GET) and host, it also decides the original request that
// path names, as /auth would for the verified token: the answer adds
// "allowed" and "route", and a request the route refuses is 403 with the
// refusal's error, reason, description (and scope or condition).
func (h *handler) verify(ctx *fasthttp.RequestCtx, x *exchange) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST", `{"error":"method_not_allowed","description":"use POST with the token as the body"}`+"\n")
		return
	}
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	x.st.Issuer, x.verified = "", nil
	x.headers.reset(h.headers, &ctx.Request.Header)
	tok, d := h.verifyRequestToken(&ctx.Request, x)
	if d != nil {
		h.deny(ctx, x, endpointVerify, -1, d)
		return
	}
	var origin *authz.Request
	if args := ctx.QueryArgs(); args.Has("path") || args.Has("uri") {
		if origin, d = verifyOrigin(args, x); d != nil {
			h.deny(ctx, x, endpointVerify, -1, d)
			return
		}
	}
	if _, err := x.timedVerifier(h, ctx).Verify(tok, &x.st); err != nil {
		dv := authz.DenialOf(err, "")
		dv = dv.WithStatus(401) // a token is valid or not: 200 or 401
		h.deny(ctx, x, endpointVerify, -1, &dv)
		return
	}
	x.verified = &x.st.Token
	b := append(x.buf[:0], `{"valid":true,`...)
	if origin != nil {
		dec := h.policy.Check(origin, &x.st.Token, tok, &x.st)
		b = append(b, `"route":`...)
		b = appendJSONString(b, dec.Route())
		if !dec.Allowed {
			b = append(b, `,"allowed":false,`...)
			b = append(b, dec.Denial.AppendJSON(nil, false)[1:]...) // its members, after {
			x.buf = b
			ctx.SetStatusCode(dec.Denial.Status())
			ctx.SetContentType(contentJSON)
			ctx.SetBody(b)
			h.metrics.denied(endpointVerify, dec.Denial)
			if h.logRequests {
				h.logRequest(ctx, x, endpointVerify, dec.Denial.Status(), dec.Denial.Reason())
			}
			return
		}
		b = append(b, `,"allowed":true,`...)
	}
	b = append(b, `"header":`...)
	b = append(b, x.st.Token.Header.Raw()...)
	b = append(b, `,"claims":`...)
	b = append(b, x.st.Token.Claims.Raw()...)
	b = append(b, '}', '\n')
	x.buf = b
	ctx.SetContentType(contentJSON)
	ctx.SetBody(b)
	h.metrics.verifyOK.IncAt(x.shard)
	if h.logRequests {
		h.logRequest(ctx, x, endpointVerify, fasthttp.StatusOK, "ok")
	}
}

// verifyOrigin reads the original request /verify is asked to decide: path
// or uri (path and query) normalized as /auth normalizes the original
// path, method (default GET), host.
func verifyOrigin(args *fasthttp.Args, x *exchange) (*authz.Request, *denial) {
	raw, query := args.Peek("path"), []byte(nil)
	if u := args.Peek("uri"); u != nil {
		if raw != nil {
			return nil, errVerifyOrigin
		}
		raw = u
		if i := bytes.IndexByte(u, '?'); i >= 0 {
			raw, query = u[:i], u[i+1:]
		}
	}
	var ok bool
	if x.orig.path, ok = authz.NormalizePath(x.orig.path[:0], raw); !ok {
		return nil, authz.DenialURIEncoding
	}
	r := &x.req
	*r = authz.Request{Method: args.Peek("method"), Host: args.Peek("host"), Path: x.orig.path, Query: query}
	if len(r.Method) == 0 {
		r.Method = methodGET
	}
	return r, nil
}

var (
	methodGET       = []byte("GET")
	errVerifyOrigin = newDenial(401, codeInvalidToken, "malformed", "give the original request to /verify as path or as uri, not both")
)

// verifyRequestToken finds the token of a /verify request: the body's, or,
// when the body is empty (or only whitespace), the Authorization header's
// Bearer token. A body and a header are not compared: the body wins.
func (h *handler) verifyRequestToken(req *fasthttp.Request, x *exchange) ([]byte, *denial) {
	body := req.Body()
	if len(bytes.TrimSpace(body)) > 0 {
		tok, ok := verifyBodyToken(body)
		if !ok {
			return nil, errVerifyBody
		}
		return tok, nil
	}
	tok, d := authz.BearerToken(&x.headers, &x.st)
	if d == authz.DenialNoToken {
		return nil, errVerifyBody
	}
	return tok, d
}

// verifyBodyToken reads the token from a /verify body: the token itself
// (surrounding whitespace ignored) or exactly the JSON object
// {"token":"..."} — no other member, no duplicate, nothing after it. It uses
// encoding/json's tokenizer: goccy/go-json's stream decoder panicked on a
// fuzzed body (the input is in fuzz/testdata/fuzz/FuzzAuthHandler).
func verifyBodyToken(body []byte) ([]byte, bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return body, true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var tok string
	seen := false
	for dec.More() {
		k, err := dec.Token()
		if err != nil || k != "token" || seen {
			return nil, false
		}
		v, err := dec.Token()
		s, isString := v.(string)
		if err != nil || !isString {
			return nil, false
		}
		tok, seen = s, true
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') || !seen {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return []byte(tok), true
}

func (h *handler) healthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(contentJSON)
	ctx.SetBodyString(`{"status":"ok"}` + "\n")
}

// readyz is 200 once every issuer has usable keys, 503 before. It is about
// the server, never about a token.
func (h *handler) readyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(contentJSON)
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	ready := h.ready()
	b := []byte(`{"ready":`)
	if ready {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}
	if h.readyDetail != nil {
		b = append(b, `,"issuers":`...)
		b = h.readyDetail(b)
	}
	ctx.SetBody(append(b, '}', '\n'))
}

// serveMetrics writes the Prometheus text format: the server's own set,
// then the process and Go runtime metrics, every family with HELP and TYPE.
func (h *handler) serveMetrics(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	var b bytes.Buffer
	h.metrics.writeMetrics(&b)
	ctx.SetBody(b.Bytes())
}
