package authz

import (
	"fmt"
	"testing"
)

// table returns a route table of n routes with three conditions each, and
// the claims of a token that meets all of them.
func table(n int) (*Config, func(map[string]any)) {
	cfg := &Config{Identity: Identity{Headers: []IdentityHeader{
		{Header: "X-Auth-Subject", Claim: "sub"},
		{Header: "X-Auth-Roles", Claim: "realm_access.roles"},
		{Header: "X-Auth-Tenant", Claim: `["https://example.com/tenant"]`},
	}}}
	roles := make([]string, n)
	for i := 0; i < n; i++ {
		roles[i] = fmt.Sprintf("role-%d", i)
		cfg.Routes = append(cfg.Routes, Route{
			Name:    fmt.Sprintf("svc-%d", i),
			Path:    fmt.Sprintf("/svc-%d/**", i),
			Methods: []string{"GET", "POST"},
			Require: []Condition{
				{Claim: "realm_access.roles", Op: OpContains, Value: roles[i]},
				{Claim: "azp", Op: OpOneOf, Value: []any{"web", "cli"}},
				{Claim: `["https://example.com/tenant"]`, Op: OpEquals, Value: "acme"},
			},
		})
	}
	// The token is the same for every table size: realistic roles, and the
	// one the last route wants.
	have := []string{"offline_access", "uma_authorization", "default-roles-acme", "user"}
	if n > 0 {
		have = append(have, roles[n-1])
	}
	return cfg, func(c map[string]any) {
		c["realm_access"] = map[string]any{"roles": have}
		c["azp"] = "cli"
		c["https://example.com/tenant"] = "acme"
	}
}

// TestDecideAllocs: deciding a request that takes the last of 50 routes,
// with three conditions, allocates nothing, cached and uncached; nor does
// Check on a token verified before.
func TestDecideAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are checked without -race")
	}
	cfg, mod := table(50)
	pol := mustCompile(t, cfg)
	for _, cached := range []bool{true, false} {
		f := newFixture(t, cached)
		tok := f.token(t, mod)
		h := &byteHeaders{}
		h.add("Authorization", "Bearer "+tok)
		h.add("Origin", "https://app.example")
		r := req("GET", "api.example.com", "/svc-49/orders/1", h)
		var st State
		name := fmt.Sprintf("cached=%v", cached)
		check := func() {
			d := pol.Decide(r, f.v, &st)
			if !d.Allowed || d.Route() != "svc-49" || d.Token.FromCache() != cached {
				t.Fatalf("%s: %d %s %s", name, d.Status(), d.Reason(), d.Route())
			}
			n := 0 // what an adapter does with the headers
			d.VisitHeaders(func(name, value []byte) { n += len(name) + len(value) })
			if n == 0 {
				t.Fatal("no identity headers")
			}
		}
		pol.Decide(r, f.v, &st) // warm the State (and the cache)
		check()
		if n := testing.AllocsPerRun(200, check); n != 0 {
			t.Errorf("%s: Decide allocates %v times per request", name, n)
		}
		// Refusals allocate nothing either.
		bad := req("GET", "api.example.com", "/svc-49/x", &byteHeaders{})
		if n := testing.AllocsPerRun(200, func() { pol.Decide(bad, f.v, &st) }); n != 0 {
			t.Errorf("%s: a refusal allocates %v times", name, n)
		}
		// Check on the verified token.
		var cst State
		verified, raw := &st.Token, []byte(tok)
		checkOnly := func() {
			if d := pol.Check(r, verified, raw, &cst); !d.Allowed {
				t.Fatalf("%s: Check: %s", name, d.Reason())
			}
		}
		checkOnly()
		if n := testing.AllocsPerRun(200, checkOnly); n != 0 {
			t.Errorf("%s: Check allocates %v times", name, n)
		}
	}
}
