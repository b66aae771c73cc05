package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

const routesYAML = `forward_auth:
  uri_header: X-Original-URI
  method_header: X-Original-Method
identity:
  headers:
    - header: X-Auth-Subject
      claim: sub
    - header: X-Auth-Roles
      claim: realm_access.roles
routes:
  - name: health
    path: /healthz
    access: public
  - name: docs
    path: /docs/**
    access: optional
  - name: admin
    path: /admin/**
    cors_preflight: true
    require:
      - name: admin-role
        claim: realm_access.roles
        op: contains
        value: admin
  - name: tenant
    host: "*.tenants.example"
    path: /api/**
    require:
      - claim: '["https://example.com/tenant"]'
        op: equals
        value: acme
  - name: orders-write
    path: /orders/**
    methods: [POST, DELETE]
    scopes: [orders:write]
`

// TestAuthRoutes: /auth decides through the route table: public, optional
// and role-gated routes, a host route, a scope route, a CORS preflight.
func TestAuthRoutes(t *testing.T) {
	f := newFixture(t, engine.HS256, routesYAML)
	user := f.token(t, func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"user"}} })
	admin := f.token(t, func(c map[string]any) {
		c["realm_access"] = map[string]any{"roles": []string{"user", "admin"}}
		c["https://example.com/tenant"] = "acme"
	})
	bad := f.token(t, func(c map[string]any) { c["exp"] = epoch.Unix() - 3600 })
	type tc struct {
		name    string
		tok     string
		headers []string
		status  int
		reason  string
		subject string
	}
	uri := func(method, u string, extra ...string) []string {
		return append([]string{"X-Original-URI: " + u, "X-Original-Method: " + method}, extra...)
	}
	cases := []tc{
		{"public, no token", "", uri("GET", "/healthz"), 200, "", ""},
		{"public, bad token", bad, uri("GET", "/healthz"), 200, "", ""},
		{"public ignores identity", admin, uri("GET", "/healthz", "X-Auth-Subject: forged"), 200, "", ""},
		{"optional, no token", "", uri("GET", "/docs/intro"), 200, "", ""},
		{"optional, token", user, uri("GET", "/docs/intro"), 200, "", "user-1234567890"},
		{"optional, bad token", bad, uri("GET", "/docs/intro"), 401, "expired", ""},
		{"role-gated, no role", user, uri("GET", "/admin/users"), 403, "rule_condition", ""},
		{"role-gated, role", admin, uri("GET", "/admin/users"), 200, "", "user-1234567890"},
		{"role-gated, no token", "", uri("GET", "/admin/users"), 401, "no_token", ""},
		{"preflight", "", uri("OPTIONS", "/admin/users", "Origin: https://app.example", "Access-Control-Request-Method: DELETE"), 200, "", ""},
		{"preflight elsewhere", "", uri("OPTIONS", "/orders/1", "Origin: https://app.example", "Access-Control-Request-Method: POST"), 401, "no_token", ""},
		{"not a preflight", "", uri("OPTIONS", "/admin/users", "Origin: https://app.example"), 401, "no_token", ""},
		{"host route", admin, uri("GET", "/api/x", "X-Forwarded-Host: a.tenants.example"), 200, "", "user-1234567890"},
		{"host route, no tenant", user, uri("GET", "/api/x", "X-Forwarded-Host: a.tenants.example"), 403, "rule_condition", ""},
		{"other host", user, uri("GET", "/api/x", "X-Forwarded-Host: elsewhere.example"), 200, "", "user-1234567890"},
		{"host list", user, uri("GET", "/api/x", "X-Forwarded-Host: a.tenants.example, evil"), 403, "host_ambiguous", ""},
		{"scope route", user, uri("POST", "/orders/1"), 403, "rule_scope", ""},
		{"scope route, read", user, uri("GET", "/orders/1"), 200, "", "user-1234567890"},
		{"dot segments", user, uri("GET", "/docs/../admin/users"), 403, "rule_condition", ""},
		{"encoded dots", user, uri("GET", "/docs/%2e%2e/admin/users"), 403, "uri_encoding", ""},
	}
	for _, c := range cases {
		h := c.headers
		if c.tok != "" {
			h = append([]string{"Authorization: Bearer " + c.tok}, h...)
		}
		r := call(f.h, "GET", "/auth", "", h...)
		if r.status != c.status || c.reason != "" && !strings.Contains(r.body, `"reason":"`+c.reason+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.reason)
			continue
		}
		if r.status == 200 {
			// Every identity header is answered, empty when there is no identity.
			if _, ok := r.headers["X-Auth-Subject"]; !ok || r.header("X-Auth-Subject") != c.subject {
				t.Errorf("%s: X-Auth-Subject %q (%v), want %q", c.name, r.header("X-Auth-Subject"), ok, c.subject)
			}
		}
	}

	// 403 for a missing scope: insufficient_scope with the scope attribute.
	r := call(f.h, "GET", "/auth", "", append([]string{"Authorization: Bearer " + user}, uri("DELETE", "/orders/1")...)...)
	if ch := r.header("Www-Authenticate"); r.status != 403 || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="orders:write"`) {
		t.Errorf("missing scope: %d %q", r.status, ch)
	}
	// 403 for a failed condition names the route and the condition, never
	// the claim's value.
	r = call(f.h, "GET", "/auth", "", append([]string{"Authorization: Bearer " + user}, uri("GET", "/admin/x")...)...)
	if !strings.Contains(r.body, `"condition":"\"admin\": admin-role"`) || strings.Contains(r.body+r.header("Www-Authenticate"), `"user"`) {
		t.Errorf("condition refusal: %s %q", r.body, r.header("Www-Authenticate"))
	}

	// Metrics count decisions by route and reason.
	m := call(f.h, "GET", "/metrics", "").body
	for _, want := range []string{
		`jwtgate_route_requests_total{route="admin",outcome="forbid",reason="rule_condition"} 3`,
		`jwtgate_route_requests_total{route="health",outcome="allow",reason="public"} 3`,
		`jwtgate_route_requests_total{route="admin",outcome="allow",reason="preflight"} 1`,
		`jwtgate_route_requests_total{route="docs",outcome="allow",reason="anonymous"} 1`,
		`jwtgate_route_requests_total{route="docs",outcome="deny",reason="expired"} 1`,
		`jwtgate_route_requests_total{route="none",outcome="forbid",reason="uri_encoding"} 1`,
		`jwtgate_route_requests_total{route="orders-write",outcome="forbid",reason="rule_scope"} 2`,
		"# TYPE jwtgate_route_requests_total counter",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestVerifyDecides: /verify with a path (or uri) and method decides the
// original request as /auth would, for the verified token.
func TestVerifyDecides(t *testing.T) {
	f := newFixture(t, engine.HS256, routesYAML)
	user := f.token(t, func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"user"}} })
	cases := []struct {
		query  string
		tok    string
		status int
		want   []string
	}{
		{"", user, 200, []string{`"valid":true`, `"claims":`}},
		{"?path=/admin/x", user, 403, []string{`"valid":true`, `"route":"admin"`, `"allowed":false`, `"reason":"rule_condition"`}},
		{"?path=/docs/x", user, 200, []string{`"route":"docs"`, `"allowed":true`, `"claims":`}},
		{"?uri=/orders/1%3Fx%3D1&method=POST", user, 403, []string{`"route":"orders-write"`, `"scope":"orders:write"`}},
		{"?path=/orders/1&method=GET", user, 200, []string{`"route":"default"`, `"allowed":true`}},
		{"?path=/admin/%252e", user, 403, []string{`"reason":"uri_encoding"`}},
		{"?path=/a&uri=/b", user, 401, []string{`"valid":false`}},
		{"?path=/healthz", "x.y.z", 401, []string{`"valid":false`}},
	}
	for _, c := range cases {
		r := call(f.h, "POST", "/verify"+c.query, c.tok)
		if r.status != c.status {
			t.Errorf("%s: %d %s", c.query, r.status, r.body)
		}
		for _, w := range c.want {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s: %s lacks %s", c.query, r.body, w)
			}
		}
	}
}

// TestMiddlewareRoutes: the middleware decides on the request's own path,
// sets the identity headers for the handler, and removes client copies and
// their look-alikes.
func TestMiddlewareRoutes(t *testing.T) {
	_, f := middlewareFixture(t)
	k, err := f.key.EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := engine.New(engine.Config{Keys: staticKeys{k}, Issuers: []string{testIssuer}, Audiences: []string{testAudience}, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := authz.Compile(&authz.Config{
		Routes: []authz.Route{
			{Name: "public", Path: "/public/**", Access: authz.AccessPublic},
			{Name: "admin", Path: "/admin/**", Require: []authz.Condition{{Claim: "roles", Op: authz.OpContains, Value: "admin"}}},
		},
		Identity: authz.Identity{Headers: []authz.IdentityHeader{{Header: "X-Auth-Subject", Claim: "sub"}, {Header: "X-Auth-Roles", Claim: "roles"}}},
	}, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mw := &server.Middleware{Verifier: v, Policy: pol}
	var seen http.Header
	var sawToken bool
	h := mw.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, sawToken = r.Header.Clone(), server.TokenFromContext(r.Context()) != nil
		w.WriteHeader(204)
	}))
	admin := f.token(t, func(c map[string]any) { c["roles"] = []string{"admin", "ops"} })
	user := f.token(t)
	cases := []struct {
		path, tok string
		status    int
		subject   string
		roles     string
	}{
		{"/public/x", "", 204, "", ""},
		{"/admin/x", admin, 204, "user-1234567890", "admin,ops"},
		{"/admin/x", user, 403, "", ""},
		{"/admin/../public/x", "", 204, "", ""},
		{"/admin/%2e%2e/public/x", "", 403, "", ""},
		{"/other", user, 204, "user-1234567890", ""},
		{"/other", "", 401, "", ""},
	}
	for _, c := range cases {
		seen, sawToken = nil, false
		req := httptest.NewRequest("GET", c.path, nil)
		req.Header.Set("X-Auth-Subject", "forged")
		req.Header["X_Auth_Subject"] = []string{"forged"}
		req.Header["X.auth.roles"] = []string{"forged"}
		if c.tok != "" {
			req.Header.Set("Authorization", "Bearer "+c.tok)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%s: %d %s", c.path, rec.Code, rec.Body)
			continue
		}
		if c.status != 204 {
			continue
		}
		if seen.Get("X-Auth-Subject") != c.subject || seen.Get("X-Auth-Roles") != c.roles || seen.Get("X_Auth_Subject") != "" || len(seen["X.auth.roles"]) != 0 {
			t.Errorf("%s: the handler saw %v", c.path, seen)
		}
		if sawToken != (c.subject != "") {
			t.Errorf("%s: token in context %v", c.path, sawToken)
		}
	}

	// The fasthttp middleware decides alike.
	fh := mw.FastHTTP(func(ctx *fasthttp.RequestCtx) {
		ctx.SetBodyString(string(ctx.Request.Header.Peek("X-Auth-Roles")) + "|" + string(ctx.Request.Header.Peek("X_Auth_Subject")))
	})
	if r := call(fh, "GET", "/admin/x", "", "Authorization: Bearer "+admin, "X_Auth_Subject: forged"); r.status != 200 || r.body != "admin,ops|" {
		t.Errorf("fasthttp admin: %d %q", r.status, r.body)
	}
	if r := call(fh, "GET", "/admin/x", "", "Authorization: Bearer "+user); r.status != 403 {
		t.Errorf("fasthttp user: %d %q", r.status, r.body)
	}
	if r := call(fh, "GET", "/public/x", ""); r.status != 200 {
		t.Errorf("fasthttp public: %d %q", r.status, r.body)
	}
}

// TestRouteRequestLogs: the request log of a request allowed without a token
// (public route, optional route) names no subject, even when the pooled
// memory of the request before held a verified token.
func TestRouteRequestLogs(t *testing.T) {
	var buf bytes.Buffer
	f := &fixture{key: signer(t, engine.HS256, "k-HS256"), clock: newFakeClock(), dir: t.TempDir()}
	yaml := "issuers:\n  - issuer: " + testIssuer + "\n    jwks_file: " + jwksFile(t, f.dir, "j.json", f.key) + "\n    audiences: [" + testAudience + "]\n" +
		"log:\n  requests: true\nroutes:\n  - name: health\n    path: /healthz\n    access: public\n  - name: docs\n    path: /docs/**\n    access: optional\n"
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{Clock: f.clock, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok := f.token(t)
	for _, uri := range []string{"/healthz", "/docs/x"} {
		buf.Reset()
		call(srv.Handler(), "GET", "/auth", "", "Authorization: Bearer "+tok, "X-Forwarded-Uri: /x")
		call(srv.Handler(), "GET", "/auth", "", "X-Forwarded-Uri: "+uri)
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"sub":"user-1234567890"`) || !strings.Contains(lines[1], `"sub":""`) || !strings.Contains(lines[1], `"cached":false`) {
			t.Errorf("%s: request logs:\n%s", uri, buf.String())
		}
	}
}
