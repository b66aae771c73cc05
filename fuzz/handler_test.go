package fuzz

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// The server of FuzzAuthHandler: the fuzz keys, token sources besides
// Authorization (header, cookie, query), a rule, and the payload header.
const (
	authTokenHeader = "X-Token"
	authTokenPrefix = "Token "
	authCookie      = "tok"
	authQuery       = "tok"
	authMaxValue    = 1024
	authMaxPayload  = 8192
)

// fuzzHMACIssuer is the issuer of the fuzz server's HMAC secrets: an
// issuer's keys are secrets or public keys, never both, so the server has
// fuzzIssuer with the public keys and fuzzHMACIssuer with the secrets.
const fuzzHMACIssuer = "https://hmac.fuzz.example"

// authWorld is the server of FuzzAuthHandler and its reference: one
// reference verifier per issuer of the server, holding that issuer's keys.
type authWorld struct {
	h    fasthttp.RequestHandler
	refs []*refVerifier
}

// verify is the reference verdict on token for the server: accepted when
// the reference of its issuer accepts it (the issuers differ, so at most
// one does). A refused token gets the first reference's verdict.
func (a *authWorld) verify(token string) refResult {
	var first refResult
	for i, r := range a.refs {
		res := r.verify(token, true)
		if res.err == nil {
			return res
		}
		if i == 0 {
			first = res
		}
	}
	return first
}

// authIssuer is the issuer of the fuzz server that holds k.
func authIssuer(k *sign.Key) string {
	if k.Alg.Family() == engine.FamilyHMAC {
		return fuzzHMACIssuer
	}
	return fuzzIssuer
}

var (
	authWorldOnce sync.Once
	theAuthWorld  *authWorld
	authWorldErr  error
)

func getAuthWorld(tb testing.TB, w *verifyWorld) *authWorld {
	tb.Helper()
	authWorldOnce.Do(func() { theAuthWorld, authWorldErr = newAuthWorld(w) })
	if authWorldErr != nil {
		tb.Fatal(authWorldErr)
	}
	return theAuthWorld
}

func newAuthWorld(w *verifyWorld) (*authWorld, error) {
	cfg, err := config.Decode([]byte(fmt.Sprintf(`
issuers:
  - issuer: %s
    audiences: [%s]
    leeway: %ds
  - issuer: %s
    audiences: [%s]
    leeway: %ds
tokens:
  header: %s
  header_prefix: %q
  cookie: %s
  query: %s
identity:
  headers:
    - {header: X-Auth-Subject, claim: sub}
    - {header: X-Auth-Issuer, claim: iss}
    - {header: X-Auth-Scope, claim: scope}
  payload_header: X-Auth-Payload
  max_value_bytes: %d
  max_payload_bytes: %d
routes:
  - name: admin
    prefix: /admin
    scopes: [admin]
  - name: roles
    path: /roles/*/**
    methods: [GET, POST]
    require:
      - claim: realm_access.roles
        op: contains
        value: admin
      - any:
          - claim: '["https://e.com/t"]'
            op: equals
            value: 5
          - claim: sub
            op: prefix
            value: user-
cache:
  entries: 256
`, fuzzIssuer, fuzzAudience, fuzzLeeway, fuzzHMACIssuer, fuzzAudience, fuzzLeeway,
		authTokenHeader, authTokenPrefix, authCookie, authQuery, authMaxValue, authMaxPayload)))
	if err != nil {
		return nil, err
	}
	a := &authWorld{}
	for i := range cfg.Issuers {
		is := &cfg.Issuers[i]
		var keys []*sign.Key
		ref := *w.ref
		ref.issuers, ref.keys = []string{is.Issuer}, nil
		for _, rk := range w.ref.keys {
			if k := w.signers[rk.kid]; authIssuer(k) == is.Issuer {
				keys = append(keys, k)
				ref.keys = append(ref.keys, rk)
			}
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("testdata/keys.json has no key for issuer %s", is.Issuer)
		}
		is.InlineJWKS = sign.JWKS(keys...)
		a.refs = append(a.refs, &ref)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	srv, err := server.New(cfg, server.Options{Clock: fuzzClock{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(context.Background()); err != nil {
		return nil, err
	}
	a.h = srv.Handler()
	return a, nil
}

// FuzzAuthHandler sends arbitrary requests — method, URI, header lines,
// body, and a token sent as "Authorization: Bearer" (re-signed with a fuzz
// key when resign is not zero) — to the server's handler in memory. The
// server must never panic, never answer 400 or 5xx, answer /auth only with
// 200, 401 or 403, answer 200 on /auth only for a token the reference
// verifier accepts (and then forward that token's subject), never put a
// control character in a response header, and never echo the token of a
// refused request. A plain request with a valid token gets 200.
func FuzzAuthHandler(f *testing.F) {
	w := getVerifyWorld(f)
	a := getAuthWorld(f, w)
	// signedAs signs claims with key kid as they are.
	signedAs := func(kid, claims string) string {
		tok, err := w.signers[kid].SignRaw([]byte(fmt.Sprintf(`{"alg":%q,"kid":%q}`, w.signers[kid].Alg.String(), kid)), []byte(claims))
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	// valid signs claims with key kid, as a token of the key's issuer.
	valid := func(kid, claims string) string {
		claims = strings.Replace(claims, fmt.Sprintf(`"iss":%q`, fuzzIssuer), fmt.Sprintf(`"iss":%q`, authIssuer(w.signers[kid])), 1)
		return signedAs(kid, claims)
	}
	hs := valid("hs", seedClaims(""))
	ed := valid("ed", seedClaims(`"email":"a@b"`))
	expired := valid("hs", strings.Replace(seedClaims(""), fmt.Sprintf(`"exp":%d`, fuzzNow+3600), fmt.Sprintf(`"exp":%d`, fuzzNow-3600), 1))
	admin := valid("ed", strings.Replace(seedClaims(""), `"scope":"read write"`, `"scope":"admin"`, 1))
	ctrl := valid("hs", strings.Replace(seedClaims(""), `"sub":"user-42"`, `"sub":"a\r\nX-Injected: 1"`, 1))
	// Each issuer's keys verify its tokens only: a secret signing for the
	// public-key issuer, or a public key for the secrets' issuer, is refused.
	hsAsPublic := signedAs("hs", seedClaims(""))
	edAsHMAC := signedAs("ed", strings.Replace(seedClaims(""), fmt.Sprintf(`"iss":%q`, fuzzIssuer), fmt.Sprintf(`"iss":%q`, fuzzHMACIssuer), 1))
	for _, c := range []struct {
		name, token string
		status      int
	}{{"HMAC issuer's token", hs, 200}, {"public-key issuer's token", ed, 200}, {"secret signing for the public-key issuer", hsAsPublic, 401}, {"public key signing for the HMAC issuer", edAsHMAC, 401}} {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI("/auth/x")
		ctx.Request.Header.Set("Authorization", "Bearer "+c.token)
		a.h(&ctx)
		if got := ctx.Response.StatusCode(); got != c.status || (a.verify(c.token).err == nil) != (c.status == 200) {
			f.Fatalf("%s: status %d, reference %v; want %d", c.name, got, a.verify(c.token).err, c.status)
		}
	}
	seeds := []struct {
		method, uri, headers string
		body                 []byte
		token                string
		resign               uint8
	}{
		{"GET", "/auth/x", "", nil, hs, 0},
		{"GET", "/auth/x", "", nil, ed, 0},
		{"POST", "/auth/api/v1?x=1", "X-Auth-Subject: root\nX-Auth-Scope: admin", []byte("body"), hs, 0},
		{"GET", "/auth/x", "", nil, expired, 0},
		{"GET", "/auth/x", "", nil, ctrl, 0},
		{"GET", "/auth/x", "", nil, hsAsPublic, 0},
		{"GET", "/auth/x", "", nil, edAsHMAC, 0},
		{"GET", "/auth/x", "", nil, ed, 1},
		{"GET", "/auth/x", "", nil, hs, 3},
		{"GET", "/auth", "X-Forwarded-Uri: /admin/x", nil, hs, 0},
		{"GET", "/auth", "X-Forwarded-Uri: /admin/x", nil, admin, 0},
		{"GET", "/auth", "X-Forwarded-Uri: /public\nX-Original-URI: /admin", nil, admin, 0},
		{"GET", "/auth", "X-Original-URI: /public/../admin\nX-Original-Method: DELETE", nil, hs, 0},
		{"GET", "/auth", "X-Forwarded-Uri: /roles/a/b\nX-Forwarded-Method: POST", nil, hs, 0},
		{"GET", "/auth/roles/a", "Origin: https://o\nAccess-Control-Request-Method: GET", nil, "", 0},
		{"GET", "/auth/x", "Authorization: Bearer a b", nil, "", 0},
		{"GET", "/auth/x", "Authorization: bearer " + hs, nil, "", 0},
		{"GET", "/auth/x", "X-Token: Token " + hs, nil, "", 0},
		{"GET", "/auth/x", "Cookie: tok=" + hs, nil, hs, 0},
		{"GET", "/auth/x?tok=" + hs, "", nil, "", 0},
		{"GET", "/auth", "X-Forwarded-Uri: /x?tok=" + ed, nil, "", 0},
		{"GET", "/auth/x", "", nil, "garbage", 0},
		{"GET", "/auth/x", "", nil, hs[:strings.LastIndexByte(hs, '.')] + ".AAAA", 1},
		{"PUT", "/auth/%2e%2e/x", "", nil, "e30.e30.", 2},
		{"GET", "/auth/..%2fhealthz", "", nil, "", 0},
		{"GET", "http://h/auth/../metrics", "", nil, "", 0},
		{"GET", "/auth%2f..%2fhealthz", "", nil, hs, 0},
		{"GET", "/auth/public/..;/admin", "", nil, hs, 0},
		{"GET", "/auth", "X-Forwarded-Uri: /public/..%2fadmin", nil, hs, 0},
		{"POST", "/verify", "", []byte(hs), "", 0},
		{"POST", "/verify", "", []byte(`{"token":"` + ed + `"}`), "", 0},
		{"POST", "/verify", "", []byte(`{"token":5}`), "", 0},
		{"GET", "/readyz", "", nil, "", 0},
		{"GET", "/metrics", "", nil, "", 0},
		{"GET", "/healthz", "", nil, "", 0},
		{"GET", "/nope", "", nil, hs, 0},
	}
	for _, s := range seeds {
		f.Add(s.method, s.uri, s.headers, s.body, s.token, s.resign)
	}
	f.Fuzz(func(t *testing.T, method, uri, headers string, body []byte, token string, resign uint8) {
		if resign != 0 {
			token = string(resignToken([]byte(token), w.resign[int(resign-1)%len(w.resign)]))
		}
		var ctx fasthttp.RequestCtx
		if method == "" || !httpToken(method) {
			method = "GET"
		}
		ctx.Request.Header.SetMethod(method)
		ctx.Request.SetRequestURI(uri)
		for _, line := range strings.Split(headers, "\n") {
			k, v, ok := strings.Cut(line, ":")
			k, v = strings.TrimSpace(k), strings.Trim(v, " \t")
			// Only what an HTTP/1.1 parser lets through.
			if !ok || !httpToken(k) || strings.ContainsAny(v, "\r\n\x00") {
				continue
			}
			ctx.Request.Header.Add(k, v)
		}
		plainToken := token != "" && !strings.ContainsAny(token, "\r\n\x00")
		if plainToken {
			ctx.Request.Header.Add("Authorization", "Bearer "+token)
		}
		if len(body) > 0 {
			ctx.Request.SetBody(body)
		}
		a.h(&ctx)
		checkAuthResponse(t, a, &ctx, token, plainToken && headers == "" && len(body) == 0 && method == "GET" && uri == "/auth/x")
	})
}

// checkAuthResponse applies FuzzAuthHandler's oracle. plain marks a GET of
// /auth/x whose only token is the Authorization one.
func checkAuthResponse(t *testing.T, a *authWorld, ctx *fasthttp.RequestCtx, token string, plain bool) {
	resp := &ctx.Response
	status := resp.StatusCode()
	if status >= 500 || status == 400 {
		t.Fatalf("status %d: %s", status, resp.Body())
	}
	for k, v := range resp.Header.All() {
		for _, c := range v {
			if c < 0x20 && c != '\t' || c == 0x7f {
				t.Fatalf("response header %s has control byte %#x: %q", k, c, v)
			}
		}
	}
	// The server routes on the raw request target, never on the decoded,
	// normalized ctx.Path(): "/auth/..%2fhealthz" is forward-auth, and only
	// the exact raw paths of the other endpoints answer 200.
	path := rawTargetPath(string(ctx.Request.Header.RequestURI()))
	isAuth := path == "/auth" || strings.HasPrefix(path, "/auth/")
	if !isAuth {
		switch path {
		case "/verify", "/healthz", "/readyz", "/metrics":
		default:
			if status == 200 {
				t.Fatalf("200 for %q, not an endpoint", ctx.Request.Header.RequestURI())
			}
		}
		return
	}
	switch status {
	case 200, 401, 403:
	default:
		t.Fatalf("/auth answered %d", status)
	}
	if status == 401 && len(resp.Header.Peek("WWW-Authenticate")) == 0 {
		t.Fatal("401 without a challenge")
	}
	if status != 200 && len(token) >= 16 {
		if bytes.Contains(resp.Body(), []byte(token)) || bytes.Contains(resp.Header.Peek("WWW-Authenticate"), []byte(token)) {
			t.Fatal("refused token echoed")
		}
	}
	if status == 200 {
		sub := string(resp.Header.Peek("X-Auth-Subject"))
		var errs []error
		for _, cand := range requestTokens(&ctx.Request) {
			ref := a.verify(cand)
			if ref.err == nil && refStr(ref.claims.sub) == sub {
				return
			}
			errs = append(errs, ref.err)
		}
		t.Logf("reference verdicts: %v", errs)
		t.Fatalf("200 for a request without a valid token (subject %q; candidates %q)", sub, requestTokens(&ctx.Request))
	}
	if plain {
		ref := a.verify(token)
		if ref.err == nil && forwardable(ref) && status != 200 {
			t.Fatalf("valid token refused with %d: %s", status, resp.Body())
		}
	}
}

// rawTargetPath is the raw path of a request target: after the authority of
// the absolute form, before the query.
func rawTargetPath(uri string) string {
	if !strings.HasPrefix(uri, "/") {
		_, rest, ok := strings.Cut(uri, "://")
		i := strings.IndexAny(rest, "/?#")
		if !ok || i < 0 || rest[i] != '/' {
			return ""
		}
		uri = rest[i:]
	}
	path, _, _ := strings.Cut(uri, "?")
	return path
}

// refStr is the value of an optional reference claim ("" when absent).
func refStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// forwardable reports whether the identity of a valid token fits the
// fuzz server's identity limits.
func forwardable(ref refResult) bool {
	for _, v := range []string{refStr(ref.claims.sub), refStr(ref.claims.iss), refStr(ref.claims.scope)} {
		if len(v) > authMaxValue || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return false
		}
	}
	return base64.RawURLEncoding.EncodedLen(len(ref.payload)) <= authMaxPayload
}

// requestTokens lists every string the request could carry as a token, in
// any of the fuzz server's sources.
func requestTokens(req *fasthttp.Request) []string {
	var out []string
	for _, v := range req.Header.PeekAll("Authorization") {
		s := strings.TrimSpace(string(v))
		if len(s) >= 6 && strings.EqualFold(s[:6], "bearer") {
			out = append(out, strings.TrimSpace(s[6:]))
		}
	}
	for _, v := range req.Header.PeekAll(authTokenHeader) {
		s := strings.TrimSpace(string(v))
		if len(s) >= len(authTokenPrefix) && strings.EqualFold(s[:len(authTokenPrefix)], authTokenPrefix) {
			out = append(out, strings.TrimSpace(s[len(authTokenPrefix):]))
		}
	}
	for k, v := range req.Header.Cookies() {
		if string(k) == authCookie {
			out = append(out, string(v))
		}
	}
	queries := []string{string(req.URI().QueryString())}
	for _, h := range []string{"X-Forwarded-Uri", "X-Original-Uri"} {
		if v := req.Header.Peek(h); v != nil {
			if _, q, ok := strings.Cut(string(v), "?"); ok {
				queries = append(queries, q)
			}
		}
	}
	for _, q := range queries {
		var args fasthttp.Args
		args.Parse(q)
		for k, v := range args.All() {
			if string(k) == authQuery {
				out = append(out, string(v))
			}
		}
		if vals, err := url.ParseQuery(q); err == nil {
			out = append(out, vals[authQuery]...)
		}
	}
	return out
}

// httpToken reports whether s is a non-empty RFC 9110 token.
func httpToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
