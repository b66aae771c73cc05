package authz

import (
	"errors"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
)

func TestAccessModes(t *testing.T) {
	f := newFixture(t, true)
	pol := mustCompile(t, &Config{
		Routes: []Route{
			{Name: "public", Path: "/public/**", Access: AccessPublic},
			{Name: "optional", Path: "/optional/**", Access: AccessOptional},
			{Name: "optional-admin", Path: "/maybe-admin/**", Access: AccessOptional, Scopes: []string{"admin"}},
			{Name: "required", Path: "/required/**"},
		},
	})
	good := f.token(t)
	expired := f.token(t, func(c map[string]any) { c["exp"] = epoch.Unix() - 3600 })
	cases := []struct {
		path, tok string
		status    int
		reason    string
		identity  bool
	}{
		{"/public/x", "", 200, ReasonPublic, false},
		{"/public/x", good, 200, ReasonPublic, false},
		{"/public/x", expired, 200, ReasonPublic, false},
		{"/public/x", "garbage", 200, ReasonPublic, false},
		{"/optional/x", "", 200, ReasonAnonymous, false},
		{"/optional/x", good, 200, ReasonAllowed, true},
		{"/optional/x", expired, 401, "expired", false},
		{"/optional/x", "garbage", 401, "malformed", false},
		{"/maybe-admin/x", "", 200, ReasonAnonymous, false},
		{"/maybe-admin/x", good, 403, "rule_scope", false},
		{"/required/x", "", 401, "no_token", false},
		{"/required/x", good, 200, ReasonAllowed, true},
		{"/required/x", expired, 401, "expired", false},
		{"/elsewhere", "", 401, "no_token", false},
		{"/elsewhere", good, 200, ReasonAllowed, true},
	}
	var st State
	for _, c := range cases {
		h := hdr()
		if c.tok != "" {
			h = hdr("Authorization", "Bearer "+c.tok)
		}
		d := pol.Decide(req("GET", "x", c.path, h), f.v, &st)
		if d.Status() != c.status || d.Reason() != c.reason {
			t.Errorf("%s %.10q: %d %s, want %d %s", c.path, c.tok, d.Status(), d.Reason(), c.status, c.reason)
		}
		if i := d.RouteIndex(); i < 0 || pol.Routes()[i] != d.Route() {
			t.Errorf("%s: route %d %q", c.path, i, d.Route())
		}
		got := map[string]string{}
		d.VisitHeaders(func(name, value []byte) { got[string(name)] = string(value) })
		if d.Allowed && len(got) != 3 {
			t.Errorf("%s: identity headers %v: every header is set on 200, empty when unknown", c.path, got)
		}
		if (got["X-Auth-Subject"] == "alice") != c.identity {
			t.Errorf("%s %.10q: identity %v, want identity %v", c.path, c.tok, got, c.identity)
		}
		if (d.Token != nil) != c.identity {
			t.Errorf("%s: Token %v", c.path, d.Token != nil)
		}
	}
}

func TestCORSPreflight(t *testing.T) {
	f := newFixture(t, false)
	yes, no := true, false
	pol := mustCompile(t, &Config{Routes: []Route{
		{Name: "cors", Path: "/cors/**", CORSPreflight: &yes},
		{Name: "nocors-writes", Path: "/mixed/**", Methods: []string{"POST"}},
		{Name: "cors-reads", Path: "/mixed/**", CORSPreflight: &yes},
		{Name: "plain", Path: "/plain/**"},
	}})
	global := mustCompile(t, &Config{CORSPreflight: true, Routes: []Route{
		{Name: "off", Path: "/off/**", CORSPreflight: &no},
	}})
	preflight := func(extra ...string) headers {
		return hdr(append([]string{"Origin", "https://app.example", "Access-Control-Request-Method", "GET"}, extra...)...)
	}
	tok := f.token(t)
	cases := []struct {
		name   string
		pol    *Policy
		method string
		path   string
		h      headers
		status int
		reason string
	}{
		{"route bypass", pol, "OPTIONS", "/cors/x", preflight(), 200, ReasonPreflight},
		{"not on other routes", pol, "OPTIONS", "/plain/x", preflight(), 401, "no_token"},
		{"route by requested method", pol, "OPTIONS", "/mixed/x", preflight(), 200, ReasonPreflight},
		{"route by requested method POST", pol, "OPTIONS", "/mixed/x", hdr("Origin", "o", "Access-Control-Request-Method", "POST"), 401, "no_token"},
		{"no Origin", pol, "OPTIONS", "/cors/x", hdr("Access-Control-Request-Method", "GET"), 401, "no_token"},
		{"no request method", pol, "OPTIONS", "/cors/x", hdr("Origin", "o"), 401, "no_token"},
		{"empty request method", pol, "OPTIONS", "/cors/x", hdr("Origin", "o", "Access-Control-Request-Method", ""), 401, "no_token"},
		{"not OPTIONS", pol, "GET", "/cors/x", preflight(), 401, "no_token"},
		{"with credentials: verified", pol, "OPTIONS", "/cors/x", preflight("Authorization", "Bearer "+tok), 200, ReasonAllowed},
		{"with bad credentials", pol, "OPTIONS", "/cors/x", preflight("Authorization", "Bearer x.y.z"), 401, "malformed"},
		{"global", global, "OPTIONS", "/any", preflight(), 200, ReasonPreflight},
		{"global, route off", global, "OPTIONS", "/off/x", preflight(), 401, "no_token"},
	}
	var st State
	for _, c := range cases {
		d := c.pol.Decide(req(c.method, "x", c.path, c.h), f.v, &st)
		if d.Status() != c.status || d.Reason() != c.reason {
			t.Errorf("%s: %d %s, want %d %s", c.name, d.Status(), d.Reason(), c.status, c.reason)
		}
	}
}

func TestTokenSources(t *testing.T) {
	f := newFixture(t, false)
	tok := f.token(t)
	off := false
	all := mustCompile(t, &Config{Tokens: Tokens{Header: "x-api-token", HeaderPrefix: "Token ", Cookie: "at", Query: "access_token"}})
	noAuthz := mustCompile(t, &Config{Tokens: Tokens{Authorization: &off, Cookie: "at"}})
	cases := []struct {
		name   string
		pol    *Policy
		h      headers
		query  string
		status int
		reason string
	}{
		{"bearer", all, hdr("Authorization", "Bearer "+tok), "", 200, ReasonAllowed},
		{"bearer any case", all, hdr("Authorization", "bEaReR  "+tok+" "), "", 200, ReasonAllowed},
		{"other scheme ignored", all, hdr("Authorization", "Basic abc"), "", 401, "no_token"},
		{"bearerx is another scheme", all, hdr("Authorization", "Bearerx "+tok), "", 401, "no_token"},
		{"bearer empty", all, hdr("Authorization", "Bearer "), "", 401, "malformed"},
		{"bearer two tokens", all, hdr("Authorization", "Bearer a b"), "", 401, "malformed"},
		{"header", all, hdr("X-Api-Token", "token "+tok), "", 200, ReasonAllowed},
		{"header without prefix", all, hdr("X-Api-Token", tok), "", 401, "no_token"},
		{"header glued to prefix", all, hdr("X-Api-Token", "Token"+tok), "", 401, "no_token"},
		{"header empty", all, hdr("X-Api-Token", "Token "), "", 401, "malformed"},
		{"cookie", all, hdr("Cookie", "a=1; at="+tok+"; b=2"), "", 200, ReasonAllowed},
		{"cookie quoted", all, hdr("Cookie", `at="`+tok+`"`), "", 200, ReasonAllowed},
		{"cookie empty", all, hdr("Cookie", "at="), "", 401, "no_token"},
		{"cookie other name", all, hdr("Cookie", "xat="+tok), "", 401, "no_token"},
		{"query", all, hdr(), "x=1&access_token=" + tok, 200, ReasonAllowed},
		{"query encoded name", all, hdr(), "access%5Ftoken=" + tok, 200, ReasonAllowed},
		{"query encoded value", all, hdr(), "access_token=" + strings.Replace(tok, ".", "%2E", 1), 200, ReasonAllowed},
		{"query empty", all, hdr(), "access_token=", 401, "no_token"},
		{"two sources", all, hdr("Authorization", "Bearer "+tok, "Cookie", "at="+tok), "", 401, "multiple_tokens"},
		{"two headers", all, hdr("Authorization", "Bearer "+tok, "Authorization", "Bearer "+tok), "", 401, "multiple_tokens"},
		{"two cookies", all, hdr("Cookie", "at="+tok+"; at="+tok), "", 401, "multiple_tokens"},
		{"two query", all, hdr(), "access_token=" + tok + "&access_token=" + tok, 401, "multiple_tokens"},
		{"header and query", all, hdr("X-Api-Token", "Token "+tok), "access_token=" + tok, 401, "multiple_tokens"},
		{"bad one and good one", all, hdr("Authorization", "Bearer ", "Cookie", "at="+tok), "", 401, "multiple_tokens"},
		{"authorization off", noAuthz, hdr("Authorization", "Bearer "+tok), "", 401, "no_token"},
		{"authorization off, cookie", noAuthz, hdr("Authorization", "Bearer "+tok, "Cookie", "at="+tok), "", 200, ReasonAllowed},
	}
	var st State
	for _, c := range cases {
		r := req("GET", "x", "/", c.h)
		r.Query = []byte(c.query)
		d := c.pol.Decide(r, f.v, &st)
		if d.Status() != c.status || d.Reason() != c.reason {
			t.Errorf("%s: %d %s, want %d %s", c.name, d.Status(), d.Reason(), c.status, c.reason)
		}
	}
}

func TestRequirementsAnswers(t *testing.T) {
	f := newFixture(t, true)
	pol := mustCompile(t, &Config{Routes: []Route{
		{Name: "admin", Path: "/admin/**", Scopes: []string{"admin", "write"}},
		{Name: "other-issuer", Path: "/other/**", Issuers: []string{otherIssuer}},
		{Name: "partner", Path: "/partner/**", Audiences: []string{"api://partner"}},
		{Name: "roles", Path: "/roles/**", Require: []Condition{{Name: "has-admin-role", Claim: "realm_access.roles", Op: OpContains, Value: "admin"}}},
	}})
	tok := f.token(t, func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"user"}} })
	var st State
	h := hdr("Authorization", "Bearer "+tok)

	d := pol.Decide(req("GET", "x", "/admin/x", h), f.v, &st)
	ch := string(d.Denial.AppendChallenge(nil, "jwtgate"))
	if d.Status() != 403 || d.Denial.Code() != engine.OAuthInsufficientScope || d.Denial.Scope() != "admin write" ||
		!strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="admin write"`) || d.Route() != "admin" {
		t.Errorf("missing scope: %d %+v %s", d.Status(), d.Denial, ch)
	}
	d = pol.Decide(req("GET", "x", "/other/x", h), f.v, &st)
	if d.Status() != 403 || d.Reason() != "rule_issuer" {
		t.Errorf("issuer: %d %s", d.Status(), d.Reason())
	}
	d = pol.Decide(req("GET", "x", "/partner/x", h), f.v, &st)
	if d.Status() != 403 || d.Reason() != "rule_audience" {
		t.Errorf("audience: %d %s", d.Status(), d.Reason())
	}
	d = pol.Decide(req("GET", "x", "/roles/x", h), f.v, &st)
	body := string(d.Denial.AppendJSON(nil, false))
	if d.Status() != 403 || d.Reason() != "rule_condition" || d.Denial.Condition() != `"roles": has-admin-role` ||
		!strings.Contains(body, "has-admin-role") || strings.Contains(body, "user") {
		t.Errorf("condition: %d %s %s", d.Status(), d.Reason(), body)
	}
	// Unknown path with a path-matching table: refused, not guessed; a
	// missing or bad token is refused as such first.
	d = pol.Decide(req("GET", "x", "", h), f.v, &st)
	if d.Status() != 403 || d.Reason() != "uri_unknown" {
		t.Errorf("unknown path: %d %s", d.Status(), d.Reason())
	}
	if d = pol.Decide(req("GET", "x", "", hdr()), f.v, &st); d.Status() != 401 || d.Reason() != "no_token" {
		t.Errorf("unknown path, no token: %d %s", d.Status(), d.Reason())
	}
	if d = pol.Decide(req("GET", "x", "", hdr("Authorization", "Bearer x.y.z")), f.v, &st); d.Status() != 401 {
		t.Errorf("unknown path, bad token: %d %s", d.Status(), d.Reason())
	}
	// A bare 401 for no token: a challenge without an error code.
	d = pol.Decide(req("GET", "x", "/x", hdr()), f.v, &st)
	if ch := string(d.Denial.AppendChallenge(nil, "jwtgate")); ch != `Bearer realm="jwtgate"` {
		t.Errorf("no token: %s", ch)
	}
	// The issuer's own required scope: the verifier names it.
	ek, _ := testKey.EngineKey()
	scoped, err := engine.New(engine.Config{Keys: keyList{ek}, Issuers: []string{testIssuer}, AnyAudience: true,
		RequiredScopes: []string{"root"}, Clock: clocktest.New(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	d = pol.Decide(req("GET", "x", "/x", h), &Engine{Verifier: scoped, Scope: "root"}, &st)
	if d.Status() != 403 || d.Denial.Scope() != "root" || d.Reason() != "insufficient_scope" {
		t.Errorf("issuer scope: %d %+v", d.Status(), d.Denial)
	}
}

func TestIdentityHeaders(t *testing.T) {
	f := newFixture(t, true)
	pol := mustCompile(t, &Config{Identity: Identity{
		Headers: []IdentityHeader{
			{Header: "X-Auth-Subject", Claim: "sub"},
			{Header: "x-auth-roles", Claim: "realm_access.roles"},
			{Header: "X-Auth-Roles-Json", Claim: "realm_access.roles", Format: FormatJSON},
			{Header: "X-Auth-Groups", Claim: `["https://example.com/groups"]`, Separator: ";"},
			{Header: "X-Auth-Aud", Claim: "aud", Separator: " "},
			{Header: "X-Auth-Tenant", Claim: "org.id"},
			{Header: "X-Auth-Org", Claim: "org"},
			{Header: "X-Auth-Missing", Claim: "nope.deeper"},
		},
		PayloadHeader: "X-Auth-Payload",
	}})
	tok := f.token(t, func(c map[string]any) {
		c["aud"] = []string{testAudience, "other"}
		c["realm_access"] = map[string]any{"roles": []string{"a", "b"}}
		c["https://example.com/groups"] = []string{"g1", "g2"}
		c["org"] = map[string]any{"id": 42, "name": "acme"}
	})
	var st State
	for _, round := range []string{"uncached", "cached"} {
		d := pol.Decide(req("GET", "x", "/", hdr("Authorization", "Bearer "+tok)), f.v, &st)
		if !d.Allowed {
			t.Fatalf("%s: %+v", round, d.Denial)
		}
		got := map[string]string{}
		var order []string
		d.VisitHeaders(func(name, value []byte) { got[string(name)] = string(value); order = append(order, string(name)) })
		want := map[string]string{
			"X-Auth-Subject":    "alice",
			"X-Auth-Roles":      "a,b",
			"X-Auth-Roles-Json": `["a","b"]`,
			"X-Auth-Groups":     "g1;g2",
			"X-Auth-Aud":        testAudience + " other",
			"X-Auth-Tenant":     "42",
			"X-Auth-Org":        `{"id":42,"name":"acme"}`,
			"X-Auth-Missing":    "",
			"X-Auth-Payload":    strings.Split(tok, ".")[1],
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", round, k, got[k], v)
			}
		}
		if len(order) != len(want) {
			t.Errorf("%s: headers %v", round, order)
		}
		if round == "cached" && !d.Token.FromCache() {
			t.Errorf("the second request was not answered from the cache")
		}
	}
	// Unforwardable values: refused, never altered.
	for name, mod := range map[string]func(map[string]any){
		"control": func(c map[string]any) { c["sub"] = "alice\r\nX-Admin: 1" },
		"long":    func(c map[string]any) { c["sub"] = strings.Repeat("a", DefaultMaxValueBytes+1) },
		"nested control": func(c map[string]any) {
			c["realm_access"] = map[string]any{"roles": []string{"a\nb"}}
		},
	} {
		d := pol.Decide(req("GET", "x", "/", hdr("Authorization", "Bearer "+f.token(t, mod))), f.v, &st)
		if d.Status() != 401 || d.Reason() != "identity_unforwardable" {
			t.Errorf("%s: %d %s", name, d.Status(), d.Reason())
		}
	}
}

// TestIdentityBlockPerPolicy: two policies that share a verifier (and its
// cache) never read each other's identity headers.
func TestIdentityBlockPerPolicy(t *testing.T) {
	f := newFixture(t, true)
	a := mustCompile(t, &Config{Identity: Identity{Headers: []IdentityHeader{{Header: "X-A", Claim: "sub"}}}})
	b := mustCompile(t, &Config{Identity: Identity{Headers: []IdentityHeader{{Header: "X-B", Claim: "iss"}}}})
	tok := f.token(t)
	var st State
	for i, pol := range []*Policy{a, b, a, b} {
		d := pol.Decide(req("GET", "x", "/", hdr("Authorization", "Bearer "+tok)), f.v, &st)
		var got string
		d.VisitHeaders(func(name, value []byte) { got = string(name) + "=" + string(value) })
		want := "X-A=alice"
		if pol == b {
			want = "X-B=" + testIssuer
		}
		if got != want {
			t.Errorf("request %d: %s, want %s", i, got, want)
		}
	}
}

func TestIsLookAlike(t *testing.T) {
	pol := mustCompile(t, &Config{Identity: Identity{PayloadHeader: "X-Auth-Payload"}})
	for _, name := range []string{"X-Auth-Subject", "x-auth-subject", "X_Auth_Subject", "x.auth.subject", "X-AUTH_SCOPE", "x_auth.payload",
		"X~Auth~Subject", "X!Auth!Subject", "X Auth Subject", "X*Auth*Subject", "X%Auth%Subject"} {
		if !pol.IsLookAlike([]byte(name)) {
			t.Errorf("%s is not a look-alike", name)
		}
	}
	for _, name := range []string{"X-Auth-Subjects", "X-Auth", "Authorization", "XAuthSubject", "X-Auth-Subjec", "X--Auth-Subject"} {
		if pol.IsLookAlike([]byte(name)) {
			t.Errorf("%s is a look-alike", name)
		}
	}
	if got := strings.Join(pol.IdentityHeaders(), ","); got != "X-Auth-Subject,X-Auth-Issuer,X-Auth-Scope,X-Auth-Payload" {
		t.Errorf("IdentityHeaders: %s", got)
	}
}

func TestSettingErrors(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"identity look-alike names", Config{Identity: Identity{Headers: []IdentityHeader{{Header: "X-Sub", Claim: "sub"}, {Header: "x_sub", Claim: "iss"}}}}, "identity.headers[1].header"},
		{"identity bad claim", Config{Identity: Identity{Headers: []IdentityHeader{{Header: "X-Sub", Claim: "a..b"}}}}, "identity.headers[0].claim"},
		{"identity bad format", Config{Identity: Identity{Headers: []IdentityHeader{{Header: "X-Sub", Claim: "sub", Format: "xml"}}}}, "identity.headers[0].format"},
		{"identity bad name", Config{Identity: Identity{Headers: []IdentityHeader{{Header: "X Sub", Claim: "sub"}}}}, "identity.headers[0].header"},
		{"negative bound", Config{Identity: Identity{MaxValueBytes: -1}}, "identity.max_value_bytes"},
		{"prefix without header", Config{Tokens: Tokens{HeaderPrefix: "Token "}}, "tokens.header_prefix"},
		{"authorization twice", Config{Tokens: Tokens{Header: "authorization"}}, "tokens.header"},
		{"no source", Config{Tokens: Tokens{Authorization: new(bool)}}, "tokens"},
		{"bad cookie", Config{Tokens: Tokens{Cookie: "a b"}}, "tokens.cookie"},
		{"reserved identity header", Config{Identity: Identity{Headers: []IdentityHeader{{Header: "authorization", Claim: "sub"}}}}, "identity.headers[0].header"},
		{"reserved payload header", Config{Identity: Identity{PayloadHeader: "Set-Cookie"}}, "identity.payload_header"},
		{"separator with CR", Config{Identity: Identity{Headers: []IdentityHeader{{Header: "X-A", Claim: "aud", Separator: "\r\n"}}}}, "identity.headers[0].separator"},
	}
	for _, c := range cases {
		_, err := Compile(&c.cfg, Options{})
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Field != c.field || ce.Fix == "" {
			t.Errorf("%s: %v, want a problem with %s and a fix", c.name, err, c.field)
		}
	}
}

func TestBearerToken(t *testing.T) {
	var st State
	cases := []struct {
		h      headers
		tok    string
		reason string
	}{
		{hdr("Authorization", "Bearer abc"), "abc", ""},
		{hdr("Authorization", "Basic abc"), "", "no_token"},
		{hdr(), "", "no_token"},
		{hdr("Authorization", "Bearer a", "Authorization", "Bearer b"), "", "multiple_tokens"},
		{hdr("Authorization", "Bearer a b"), "", "malformed"},
	}
	for _, c := range cases {
		tok, d := BearerToken(c.h, &st)
		reason := ""
		if d != nil {
			reason = d.Reason()
		}
		if string(tok) != c.tok || reason != c.reason {
			t.Errorf("%v: %q %q", c.h, tok, reason)
		}
	}
}
