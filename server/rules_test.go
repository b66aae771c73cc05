package server_test

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

const rulesYAML = `rules:
  - path: /admin
    scopes: [admin]
  - path: /orders
    methods: [POST, DELETE]
    scopes: [write:orders]
  - path: /partner
    audiences: [api://partner]
  - path: /legacy
    issuers: [https://issuer.example]
`

func TestRulesByOriginalURI(t *testing.T) {
	f := newFixture(t, engine.HS256, rulesYAML)
	user := f.token(t)
	admin := f.token(t, func(c map[string]any) { c["scope"] = "read admin" })
	cases := []struct {
		name    string
		tok     string
		uri     string
		headers []string
		status  int
		scope   string
	}{
		{"traefik admin denied", user, "/auth", []string{"X-Forwarded-Uri: /admin/users?x=1"}, 403, "admin"},
		{"traefik admin allowed", admin, "/auth", []string{"X-Forwarded-Uri: /admin/users"}, 200, ""},
		{"nginx admin denied", user, "/auth", []string{"X-Original-URI: /admin"}, 403, "admin"},
		{"envoy admin denied", user, "/auth/admin/x", nil, 403, "admin"},
		{"envoy root allowed", user, "/auth/", nil, 200, ""},
		{"segment boundary", user, "/auth", []string{"X-Forwarded-Uri: /administrator"}, 200, ""},
		{"dot segments", user, "/auth", []string{"X-Forwarded-Uri: /public/../admin"}, 403, "admin"},
		{"percent-encoded", user, "/auth", []string{"X-Forwarded-Uri: /%61dmin"}, 403, "admin"},
		{"double slash", user, "/auth", []string{"X-Forwarded-Uri: //admin"}, 403, "admin"},
		{"matrix parameter", user, "/auth", []string{"X-Forwarded-Uri: /admin;jsessionid=1"}, 403, "admin"},
		{"suffix", user, "/auth", []string{"X-Forwarded-Uri: /admin.json"}, 403, "admin"},
		{"encoded slash", user, "/auth", []string{"X-Forwarded-Uri: /admin%2Fx"}, 403, ""},
		// Encoded and parameterized dot segments: matched as the upstream
		// would read them, or refused (403 uri_encoding), never missed.
		{"encoded slash in dot segment", user, "/auth", []string{"X-Forwarded-Uri: /public/..%2fadmin"}, 403, ""},
		{"encoded dot segment", user, "/auth", []string{"X-Forwarded-Uri: /public/%2e%2e/admin"}, 403, ""},
		{"encoded dot segment, admin token", admin, "/auth", []string{"X-Forwarded-Uri: /public/%2E%2E/admin"}, 403, ""},
		{"tomcat dot segment", user, "/auth", []string{"X-Forwarded-Uri: /public/..;/admin"}, 403, ""},
		{"encoded backslash", user, "/auth", []string{"X-Forwarded-Uri: /public/..%5cadmin"}, 403, ""},
		{"backslash", user, "/auth", []string{"X-Forwarded-Uri: /public/..\\admin"}, 403, ""},
		{"encoded NUL", user, "/auth", []string{"X-Forwarded-Uri: /admin%00"}, 403, ""},
		{"double encoding", user, "/auth", []string{"X-Forwarded-Uri: /public/%252e%252e/admin"}, 403, ""},
		{"invalid escape", user, "/auth", []string{"X-Forwarded-Uri: /admin%zz"}, 403, ""},
		{"overlong slash", user, "/auth", []string{"X-Forwarded-Uri: /public/..%c0%afadmin"}, 403, ""},
		{"envoy tomcat dot segment", user, "/auth/public/..;/admin", nil, 403, ""},
		{"envoy encoded slash", user, "/auth/public/..%2fadmin", nil, 403, ""},
		{"envoy encoded dot segment", user, "/auth/public/%2e%2e/admin", nil, 403, ""},
		{"envoy raw dot segment", user, "/auth/public/../admin", nil, 403, "admin"},
		{"envoy escaped letters", admin, "/auth/%61dmin/x", nil, 200, ""},
		{"word continues", user, "/auth", []string{"X-Forwarded-Uri: /admin-ui"}, 200, ""},
		{"other path", user, "/auth", []string{"X-Forwarded-Uri: /orders"}, 200, ""},
		{"method rule GET", user, "/auth", []string{"X-Forwarded-Uri: /orders/1", "X-Forwarded-Method: GET"}, 200, ""},
		{"method rule POST", user, "/auth", []string{"X-Forwarded-Uri: /orders/1", "X-Forwarded-Method: POST"}, 403, "write:orders"},
		{"method from nginx", user, "/auth", []string{"X-Original-URI: /orders", "X-Original-Method: DELETE"}, 403, "write:orders"},
		{"method of the auth request", user, "/auth/orders", nil, 200, ""},
		{"agreeing sources", user, "/auth", []string{"X-Forwarded-Uri: /x", "X-Original-URI: /x"}, 200, ""},
		{"ambiguous", user, "/auth", []string{"X-Forwarded-Uri: /public", "X-Original-URI: /admin"}, 403, ""},
		{"ambiguous with envoy path", user, "/auth/public", []string{"X-Original-URI: /admin"}, 403, ""},
		{"ambiguous methods", user, "/auth", []string{"X-Forwarded-Uri: /orders", "X-Forwarded-Method: GET", "X-Original-Method: POST"}, 403, ""},
		{"absolute URI header", user, "/auth", []string{"X-Forwarded-Uri: http://evil/admin"}, 403, ""},
		{"unknown URI", user, "/auth", nil, 403, ""},
		{"audience rule", user, "/auth", []string{"X-Forwarded-Uri: /partner"}, 403, ""},
		{"issuer rule", user, "/auth", []string{"X-Forwarded-Uri: /legacy"}, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(f.h, "GET", c.uri, "", append([]string{"Authorization: Bearer " + c.tok}, c.headers...)...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			ch := r.header("Www-Authenticate")
			if c.scope != "" && (!strings.Contains(ch, `error="insufficient_scope"`) || !strings.HasSuffix(ch, `scope="`+c.scope+`"`)) {
				t.Errorf("challenge %q, want insufficient_scope with scope=%q", ch, c.scope)
			}
			if r.status == 200 && r.header("X-Auth-Subject") == "" {
				t.Error("200 without identity")
			}
		})
	}
	// A bad token is still a 401, even where a rule applies.
	r := call(f.h, "GET", "/auth", "", "Authorization: Bearer x.y.z", "X-Forwarded-Uri: /admin")
	if r.status != 401 {
		t.Errorf("bad token under a rule: %d", r.status)
	}
}

func TestRulesLongestPrefixWins(t *testing.T) {
	f := newFixture(t, engine.HS256, `rules:
  - path: /api
    scopes: [api]
  - path: /api/public
  - path: /api/admin
    methods: [GET]
    scopes: [admin-read]
  - path: /api/admin
    scopes: [admin]
`)
	api := f.token(t, func(c map[string]any) { c["scope"] = "api" })
	for _, c := range []struct {
		uri, method string
		status      int
	}{
		{"/api/orders", "GET", 200},
		{"/api/public/docs", "GET", 200},
		{"/api/admin", "GET", 403},
		{"/api/admin/x", "PUT", 403},
	} {
		r := call(f.h, "GET", "/auth", "", "Authorization: Bearer "+api, "X-Forwarded-Uri: "+c.uri, "X-Forwarded-Method: "+c.method)
		if r.status != c.status {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.uri, r.status, c.status, r.header("Www-Authenticate"))
		}
	}
	none := f.token(t, func(c map[string]any) { c["scope"] = "" })
	if r := call(f.h, "GET", "/auth", "", "Authorization: Bearer "+none, "X-Forwarded-Uri: /api/public/x"); r.status != 200 {
		t.Errorf("rule without requirements refused a valid token: %d", r.status)
	}
	if r := call(f.h, "GET", "/auth", "", "Authorization: Bearer "+none, "X-Forwarded-Uri: /api/x"); r.status != 403 {
		t.Errorf("/api without scope: %d", r.status)
	}
	r := call(f.h, "GET", "/auth", "", "Authorization: Bearer "+api, "X-Forwarded-Uri: /api/admin", "X-Forwarded-Method: GET")
	if !strings.HasSuffix(r.header("Www-Authenticate"), `scope="admin-read"`) {
		t.Errorf("method-specific rule did not win the tie: %q", r.header("Www-Authenticate"))
	}
}

func TestRulesPinnedURIHeader(t *testing.T) {
	f := newFixture(t, engine.HS256, rulesYAML+"forward_auth:\n  uri_header: X-Original-URI\n  method_header: X-Original-Method\n")
	user := f.token(t)
	// Only the pinned header counts: a client's X-Forwarded-Uri is ignored.
	r := call(f.h, "GET", "/auth", "", "Authorization: Bearer "+user, "X-Original-URI: /admin", "X-Forwarded-Uri: /public")
	if r.status != 403 {
		t.Errorf("pinned header: %d", r.status)
	}
	r = call(f.h, "GET", "/auth/public", "", "Authorization: Bearer "+user)
	if r.status != 403 || !strings.Contains(r.body, "uri_unknown") {
		t.Errorf("missing pinned header: %d %s", r.status, r.body)
	}
	r = call(f.h, "GET", "/auth", "", "Authorization: Bearer "+user, "X-Original-URI: /orders")
	if r.status != 403 || !strings.Contains(r.body, "method_unknown") {
		t.Errorf("missing pinned method header: %d %s", r.status, r.body)
	}
}
