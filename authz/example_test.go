package authz_test

import (
	"fmt"
	"net/textproto"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// exampleJWKS trusts one HS256 key; exampleToken was signed with it for
// alice, audience api://orders, valid until 2100, with the scopes
// orders:read and orders:write.
const (
	exampleJWKS  = `{"keys":[{"kty":"oct","kid":"2026-11","alg":"HS256","k":"ZXhhbXBsZS1zZWNyZXQtb2YtYXQtbGVhc3QtMzItYnl0ZXMhIQ"}]}`
	exampleToken = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjIwMjYtMTEiLCJ0eXAiOiJKV1QifQ." +
		"eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJhcGk6Ly9vcmRlcnMiLCJpYXQiOjE3NjQwNzIwMDAsImV4cCI6NDEwMjQ0NDgwMCwic2NvcGUiOiJvcmRlcnM6cmVhZCBvcmRlcnM6d3JpdGUifQ." +
		"BwPXZ5JX8uNPKcjxJLkG1Fpj-eWmhNdBkgXNEAORlXo"
)

// mapHeaders is the smallest HeaderSource: a front end would read its own
// request instead.
type mapHeaders map[string]string

func (h mapHeaders) AppendValues(dst [][]byte, name string) [][]byte {
	if v, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		dst = append(dst, []byte(v))
	}
	return dst
}

// A route table compiled from Go values, and the decisions it makes.
func ExamplePolicy_Decide() {
	store, err := keystore.New(keystore.Options{},
		keystore.Issuer{Issuer: "https://issuer.example", JWKS: []byte(exampleJWKS)})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	v, err := engine.New(engine.Config{Keys: store, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api://orders"}})
	if err != nil {
		panic(err)
	}

	pol, err := authz.Compile(&authz.Config{
		Routes: []authz.Route{
			{Name: "health", Path: "/healthz", Access: authz.AccessPublic},
			{Name: "orders-write", Path: "/orders/**", Methods: []string{"POST"}, Scopes: []string{"orders:write"}},
			{Name: "admin", Path: "/admin/**", Require: []authz.Condition{
				{Claim: "realm_access.roles", Op: authz.OpContains, Value: "admin"},
			}},
		},
		Identity: authz.Identity{Headers: []authz.IdentityHeader{{Header: "X-User", Claim: "sub"}}},
	}, authz.Options{Issuers: []string{"https://issuer.example"}})
	if err != nil {
		panic(err)
	}

	verifier := &authz.Engine{Verifier: v}
	var st authz.State // one per goroutine, or pooled
	bearer := mapHeaders{"Authorization": "Bearer " + exampleToken}
	for _, r := range []struct {
		method, path string
		headers      mapHeaders
	}{
		{"GET", "/healthz", mapHeaders{}},
		{"POST", "/orders/42", mapHeaders{}},
		{"POST", "/orders/42", bearer},
		{"GET", "/admin/users", bearer},
	} {
		d := pol.Decide(&authz.Request{Method: []byte(r.method), Path: []byte(r.path), Headers: r.headers}, verifier, &st)
		fmt.Printf("%s %s: %d %s (route %s)", r.method, r.path, d.Status(), d.Reason(), d.Route())
		d.VisitHeaders(func(name, value []byte) { fmt.Printf(" %s=%q", name, value) })
		fmt.Println()
	}
	// Output:
	// GET /healthz: 200 public (route health) X-User=""
	// POST /orders/42: 401 no_token (route orders-write)
	// POST /orders/42: 200 allowed (route orders-write) X-User="alice"
	// GET /admin/users: 403 rule_condition (route admin)
}

// Compile errors name the setting, the problem and the fix.
func ExampleCompile() {
	_, err := authz.Compile(&authz.Config{Routes: []authz.Route{
		{Name: "everything"},
		{Name: "admin", Path: "/admin/**", Require: []authz.Condition{{Claim: "roles", Op: "has", Value: "admin"}}},
	}}, authz.Options{})
	fmt.Println(err)
	// Output:
	// routes[1].require[0].op: unknown operator "has"; use one of equals, one_of, exists, prefix, contains, contains_any or contains_all
	// routes[1]: route "admin" can never match: routes[0] ("everything") comes first and matches every request it would; move it before routes[0], or narrow routes[0]
}
