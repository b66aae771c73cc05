package server

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/valyala/fasthttp"
)

var errVerifyBody = newDenial(401, codeInvalidToken, "malformed",
	`the /verify body must be the token, or {"token":"<token>"}; or, with an empty body, send the token in Authorization: Bearer <token>`)

// verify is POST /verify: the body is the token or {"token":"..."}; with an
// empty body, the token of the Authorization header (Bearer, read as /auth
// reads it). It
// answers 200 {"valid":true,"header":{...},"claims":{...}} or 401
// {"valid":false,"error":"<RFC 6750 code>","reason":"...","description":"..."}.
// Route rules and identity headers do not apply: it verifies only.
func (h *handler) verify(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST", `{"error":"method_not_allowed","description":"use POST with the token as the body"}`+"\n")
		return
	}
	x := exchangePool.Get().(*exchange)
	defer exchangePool.Put(x)
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	x.issuer = ""
	tok, d := verifyRequestToken(&ctx.Request)
	if d != nil {
		h.deny(ctx, x, endpointVerify, d)
		return
	}
	if err := h.verifyToken(tok, x); err != nil {
		d := denialOf(err, h.scopeOf(&x.tok))
		d.status = 401 // /verify answers valid or not: 200 or 401
		h.deny(ctx, x, endpointVerify, &d)
		return
	}
	b := append(x.buf[:0], `{"valid":true,"header":`...)
	b = append(b, x.tok.Header.Raw()...)
	b = append(b, `,"claims":`...)
	b = append(b, x.tok.Claims.Raw()...)
	b = append(b, '}', '\n')
	x.buf = b
	ctx.SetContentType(contentJSON)
	ctx.SetBody(b)
	h.metrics.verifyOK.Inc()
	if h.logRequests {
		h.logRequest(ctx, x, endpointVerify, fasthttp.StatusOK, "ok")
	}
}

// verifyRequestToken finds the token of a /verify request: the body's, or,
// when the body is empty (or only whitespace), the Authorization header's
// Bearer token. A body and a header are not compared: the body wins.
func verifyRequestToken(req *fasthttp.Request) ([]byte, *denial) {
	body := req.Body()
	if len(bytes.TrimSpace(body)) > 0 {
		tok, ok := verifyBodyToken(body)
		if !ok {
			return nil, errVerifyBody
		}
		return tok, nil
	}
	var f tokenFinder
	for _, v := range req.Header.PeekAll(fasthttp.HeaderAuthorization) {
		if tok, d, ok := parseBearer(v); ok {
			f.add(tok, d)
		}
	}
	if f.n == 0 {
		return nil, errVerifyBody
	}
	return f.result()
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
