package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server"
)

// staticKeys is a KeyLookup over one key.
type staticKeys struct{ k *engine.Key }

func (s staticKeys) LookupKey(iss, kid []byte, alg engine.Alg) (*engine.Key, error) { return s.k, nil }

func middlewareFixture(t *testing.T) (*server.Middleware, *fixture) {
	f := &fixture{key: signer(t, engine.HS256, "k-HS256"), clock: newFakeClock()}
	k, err := f.key.EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := engine.New(engine.Config{Keys: staticKeys{k}, Issuers: []string{testIssuer}, Audiences: []string{testAudience}, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := authz.Compile(&authz.Config{Tokens: authz.Tokens{Cookie: "session"}, Identity: authz.Identity{Headers: []authz.IdentityHeader{}}}, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &server.Middleware{Verifier: v, Realm: "api", StripHeaders: []string{"X-User"}, Policy: pol}, f
}

func TestMiddlewareHTTP(t *testing.T) {
	mw, f := middlewareFixture(t)
	var seenUser string
	var seenSub string
	h := mw.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenUser = r.Header.Get("X-User")
		if tok := server.TokenFromContext(r.Context()); tok != nil {
			seenSub = string(tok.Claims.Subject)
		}
		w.WriteHeader(204)
	}))
	tok := f.token(t)
	cases := []struct {
		name      string
		headers   map[string]string
		status    int
		challenge string
	}{
		{"bearer", map[string]string{"Authorization": "Bearer " + tok, "X-User": "admin"}, 204, ""},
		{"cookie", map[string]string{"Cookie": "session=" + tok}, 204, ""},
		{"both", map[string]string{"Authorization": "Bearer " + tok, "Cookie": "session=" + tok}, 401, `error="invalid_token"`},
		{"none", nil, 401, `Bearer realm="api"`},
		{"expired", map[string]string{"Authorization": "Bearer " + f.token(t, func(c map[string]any) { c["exp"] = epoch.Unix() - 3600 })}, 401, "expired"},
		{"audience", map[string]string{"Authorization": "Bearer " + f.token(t, func(c map[string]any) { c["aud"] = "x" })}, 401, `error="invalid_token"`},
	}
	for _, c := range cases {
		seenUser, seenSub = "unset", ""
		req := httptest.NewRequest("GET", "/x", nil)
		for k, v := range c.headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, rec.Code, c.status)
		}
		if c.status == 204 && (seenUser != "" || seenSub != "user-1234567890") {
			t.Errorf("%s: handler saw X-User %q sub %q", c.name, seenUser, seenSub)
		}
		if c.status != 204 && seenUser != "unset" {
			t.Errorf("%s: handler ran", c.name)
		}
		if ch := rec.Header().Get("WWW-Authenticate"); !strings.Contains(ch, c.challenge) {
			t.Errorf("%s: challenge %q lacks %q", c.name, ch, c.challenge)
		}
	}
}

func TestMiddlewareFastHTTP(t *testing.T) {
	mw, f := middlewareFixture(t)
	h := mw.FastHTTP(func(ctx *fasthttp.RequestCtx) {
		tok := server.TokenFromRequestCtx(ctx)
		ctx.SetBodyString(string(tok.Claims.Subject) + "|" + string(ctx.Request.Header.Peek("X-User")))
	})
	r := call(h, "GET", "/x", "", "Authorization: Bearer "+f.token(t), "X-User: admin")
	if r.status != 200 || r.body != "user-1234567890|" {
		t.Errorf("valid: %d %q", r.status, r.body)
	}
	r = call(h, "GET", "/x", "", "Authorization: Bearer x.y.z")
	if r.status != 401 || !strings.HasPrefix(r.header("Www-Authenticate"), `Bearer realm="api", error="invalid_token"`) || strings.Contains(r.body, "x.y.z") {
		t.Errorf("invalid: %d %q %s", r.status, r.header("Www-Authenticate"), r.body)
	}
	var ctx fasthttp.RequestCtx
	if server.TokenFromRequestCtx(&ctx) != nil {
		t.Error("token outside the middleware")
	}
}
