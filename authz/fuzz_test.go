package authz

import (
	"encoding/json"
	"net/textproto"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// FuzzConditions compiles a random condition and evaluates it on random
// claims that the engine accepts. It must never panic, and the type rules
// must hold: a missing claim never matches a test, a string never equals a
// number, and equals agrees with one_of of one element.
func FuzzConditions(f *testing.F) {
	f.Add(`{"a":{"b":["x","y"]},"n":5,"s":"5"}`, "a.b", OpContains, `"x"`)
	f.Add(`{"realm_access":{"roles":["admin"]}}`, "realm_access.roles", OpContainsAll, `["admin"]`)
	f.Add(`{"https://e.com/r":["a"],"cognito:groups":["g"]}`, `["https://e.com/r"]`, OpContainsAny, `["a","b"]`)
	f.Add(`{"n":5,"s":"5"}`, "n", OpEquals, `"5"`)
	f.Add(`{"s":"caf\u00e9 x"}`, "s", OpPrefix, `"caf"`)
	f.Add(`{"scp":"a b  c"}`, "scp", OpContains, `""`)
	f.Add(`{"a.b":{"c":null}}`, `a\.b.c`, OpExists, `null`)
	f.Add(`{"x":[[1],{"y":2},true]}`, "x", OpOneOf, `[1,true]`)
	f.Fuzz(func(t *testing.T, payload, path, op, value string) {
		var tok engine.Token
		if engine.ScanClaims([]byte(payload), &tok) != nil {
			return // the engine would refuse the token
		}
		var v any
		if value != "null" && json.Unmarshal([]byte(value), &v) != nil {
			return
		}
		cond := Condition{Claim: path, Op: op, Value: v}
		pol, err := Compile(&Config{Routes: []Route{{Name: "r", Require: []Condition{cond}}}}, Options{})
		if err != nil {
			return
		}
		var st State
		r := req("GET", "h", "/", nil)
		allowed := pol.Check(r, &tok, nil, &st).Allowed

		cp, _ := parseClaimPath(path)
		claim, found := cp.lookup(tok.Claims.Raw())
		if !found && allowed {
			t.Fatalf("%s %s %s matched a missing claim in %s", path, op, value, payload)
		}
		if op == OpEquals && found {
			k := kindAt(claim, 0)
			switch v.(type) {
			case string:
				if allowed && k != kindString {
					t.Fatalf("string %s equals the %s claim %s", value, kindNames[k], claim)
				}
			case float64:
				if allowed && k != kindNumber {
					t.Fatalf("number %s equals the %s claim %s", value, kindNames[k], claim)
				}
			}
			one := mustCompile(t, &Config{Routes: []Route{{Name: "r", Require: []Condition{{Claim: path, Op: OpOneOf, Value: []any{v}}}}}})
			if got := one.Check(r, &tok, nil, &st).Allowed; got != allowed {
				t.Fatalf("equals %v, one_of [%s] %v", allowed, value, got)
			}
		}
		if (op == OpContains || op == OpContainsAny || op == OpContainsAll || op == OpPrefix) && allowed {
			if k := kindAt(claim, 0); k != kindArray && k != kindString {
				t.Fatalf("%s matched a %s claim", op, kindNames[k])
			}
		}
	})
}

var kindNames = [...]string{"invalid", "string", "number", "bool", "null", "object", "array"}

// FuzzClaimPath parses random claim paths and looks them up in random
// claims: never a panic, and a parsed path prints back as configured.
func FuzzClaimPath(f *testing.F) {
	f.Add(`["https://example.com/roles"]`, `{"https://example.com/roles":["a"]}`)
	f.Add(`a\.b.c`, `{"a.b":{"c":1}}`)
	f.Add(`resource_access["my.client"].roles`, `{"resource_access":{"my.client":{"roles":[]}}}`)
	f.Fuzz(func(t *testing.T, path, payload string) {
		p, err := parseClaimPath(path)
		if err != nil {
			return
		}
		if p.String() != path || len(p.names) == 0 {
			t.Fatalf("%q parsed as %q", path, p.names)
		}
		var tok engine.Token
		if engine.ScanClaims([]byte(payload), &tok) != nil {
			return
		}
		if v, ok := p.lookup(tok.Claims.Raw()); ok && !json.Valid(v) {
			t.Fatalf("%s in %s: %q is not one JSON value", path, payload, v)
		}
	})
}

// FuzzDecide decides random requests — method, host, raw path, query,
// header lines and a token — against a route table with every access mode,
// preflights and claim conditions. It must never panic, and every allowed
// request must be allowed for a reason that holds: a public route, a
// preflight without a token, an optional route without a token, or a token
// the verifier accepted.
func FuzzDecide(f *testing.F) {
	fx := newFixture(f, true)
	yes := true
	pol := mustCompile(f, &Config{
		Tokens: Tokens{Cookie: "at", Query: "access_token", Header: "X-Token", HeaderPrefix: "Token "},
		Routes: []Route{
			{Name: "public", Path: "/public/**", Access: AccessPublic},
			{Name: "optional", Prefix: "/docs", Access: AccessOptional, Require: []Condition{{Claim: "sub", Op: OpExists}}},
			{Name: "admin", Host: "*.example.com", Path: "/admin/*/x", Methods: []string{"GET", "POST"}, CORSPreflight: &yes,
				Scopes: []string{"read"}, Require: []Condition{{Any: []Condition{
					{Claim: "realm_access.roles", Op: OpContains, Value: "admin"},
					{Claim: `["https://e.com/t"]`, Op: OpOneOf, Value: []any{5, "x"}},
				}}}},
		},
		Identity: Identity{Headers: []IdentityHeader{{Header: "X-Sub", Claim: "sub"}, {Header: "X-Roles", Claim: "realm_access.roles", Format: FormatJSON}}},
	})
	good := fx.token(f, func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"admin"}} })
	for _, s := range []struct{ method, host, path, query, headers string }{
		{"GET", "a.example.com", "/admin/1/x", "", "Authorization: Bearer " + good},
		{"OPTIONS", "a.example.com", "/admin/1/x", "", "Origin: o\nAccess-Control-Request-Method: POST"},
		{"GET", "h", "/docs/x", "access_token=" + good, ""},
		{"GET", "h", "/public/x", "", "Cookie: at=x"},
		{"DELETE", "A.EXAMPLE.COM.:443", "/admin/%2e/x", "", "X-Token: Token " + good},
	} {
		f.Add(s.method, s.host, s.path, s.query, s.headers)
	}
	f.Fuzz(func(t *testing.T, method, host, path, query, headerLines string) {
		h := headers{}
		for _, line := range strings.Split(headerLines, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				k = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
				h[k] = append(h[k], strings.TrimSpace(v))
			}
		}
		r := &Request{Method: []byte(method), Host: []byte(host), Query: []byte(query), Headers: h}
		if p, ok := NormalizePath(nil, []byte(path)); ok {
			r.Path = p
		}
		var st State
		d := pol.Decide(r, fx.v, &st)
		if d.Allowed == (d.Denial != nil) {
			t.Fatalf("allowed %v with denial %v", d.Allowed, d.Denial)
		}
		if !d.Allowed {
			if s := d.Status(); s != 401 && s != 403 {
				t.Fatalf("status %d", s)
			}
			return
		}
		_, noToken := pol.sources.extract(r, &st)
		switch d.Reason() {
		case ReasonPublic:
			if d.Route() != "public" || d.Token != nil {
				t.Fatalf("public on route %s", d.Route())
			}
		case ReasonPreflight:
			if method != "OPTIONS" || noToken != DenialNoToken || len(h["Origin"]) == 0 || d.Token != nil {
				t.Fatalf("preflight %s with %v", method, h)
			}
		case ReasonAnonymous:
			if d.Route() != "optional" || noToken != DenialNoToken || d.Token != nil {
				t.Fatalf("anonymous on route %s", d.Route())
			}
		case ReasonAllowed:
			if d.Token == nil || noToken != nil {
				t.Fatal("allowed without a verified token")
			}
			if d.Route() == "admin" && !d.Token.Claims.HasScope("read") {
				t.Fatal("admin without its scope")
			}
		default:
			t.Fatalf("reason %q", d.Reason())
		}
		d.VisitHeaders(func(name, value []byte) {
			if hasControl(value) {
				t.Fatalf("%s: control character in %q", name, value)
			}
		})
	})
}
