package authz

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
)

// TestIssuersPick: with several issuers, each token goes to its issuer's
// verifier (its own policy: here, audiences), a token of an unknown issuer
// to the first, which refuses it; the cache entry of each keeps its block.
func TestIssuersPick(t *testing.T) {
	ek, err := testKey.EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := engine.New(engine.Config{Keys: keyList{ek}, Clock: clocktest.New(epoch), Policies: []engine.IssuerPolicy{
		{Issuer: testIssuer, Audiences: []string{"api://a"}},
		{Issuer: otherIssuer, Audiences: []string{"api://b"}, RequiredScopes: []string{"read"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	is := NewIssuers(v)
	pol := mustCompile(t, &Config{Routes: []Route{{Name: "r", Require: []Condition{{Claim: "sub", Op: OpEquals, Value: "alice"}}}}})
	sign := func(mod func(map[string]any)) string {
		tok, err := testKey.Sign(claims(mod))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	audDenial := DenialOf(engine.ErrAudience, "")
	audienceStatus := audDenial.Status() // 403 or 401, as the engine's reason says
	cases := []struct {
		name, tok string
		status    int
		reason    string
	}{
		{"first issuer", sign(func(c map[string]any) { c["aud"] = "api://a" }), 200, ReasonAllowed},
		{"second issuer", sign(func(c map[string]any) { c["iss"] = otherIssuer; c["aud"] = "api://b" }), 200, ReasonAllowed},
		{"second issuer's policy", sign(func(c map[string]any) { c["iss"] = otherIssuer; c["aud"] = "api://a" }), audienceStatus, "audience"},
		{"second issuer's scope", sign(func(c map[string]any) { c["iss"] = otherIssuer; c["aud"] = "api://b"; c["scope"] = "x" }), 403, "insufficient_scope"},
		{"unknown issuer", sign(func(c map[string]any) { c["iss"] = "https://nobody.example"; c["aud"] = "api://a" }), 401, "unknown_issuer"},
		{"rules apply", sign(func(c map[string]any) { c["aud"] = "api://a"; c["sub"] = "bob" }), 403, "rule_condition"},
	}
	var st State
	for round := 0; round < 2; round++ {
		for _, c := range cases {
			d := pol.Decide(req("GET", "h", "/", hdr("Authorization", "Bearer "+c.tok)), is, &st)
			if d.Status() != c.status || d.Reason() != c.reason {
				t.Errorf("round %d, %s: %d %s, want %d %s", round, c.name, d.Status(), d.Reason(), c.status, c.reason)
			}
			want := map[bool]string{true: otherIssuer, false: testIssuer}[strings.HasPrefix(c.name, "second")]
			if c.name == "unknown issuer" {
				want = ""
			}
			if st.Issuer != want {
				t.Errorf("%s: State.Issuer %q, want %q", c.name, st.Issuer, want)
			}
			if c.reason == "insufficient_scope" && d.Denial.Scope() != "read" {
				t.Errorf("%s: scope %q", c.name, d.Denial.Scope())
			}
			if round == 1 && d.Allowed && (!d.Token.FromCache() || d.Token.Attachment() == nil) {
				t.Errorf("%s: the second request did not use the cache and its block", c.name)
			}
		}
	}
}

// TestIssuersTenantRoute: a route naming a tenant template admits the
// tokens the template's policy accepted, whatever their tenant, and
// State.Issuer is the template.
func TestIssuersTenantRoute(t *testing.T) {
	const tmpl = "https://login.example/{tenantid}/v2.0"
	ek, err := testKey.EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := engine.New(engine.Config{Keys: keyList{ek}, Clock: clocktest.New(epoch), Policies: []engine.IssuerPolicy{
		{Issuer: testIssuer, Audiences: []string{testAudience}},
		{Issuer: tmpl, AnyTenant: true, Audiences: []string{testAudience}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := Compile(&Config{Routes: []Route{{Name: "tenants", Issuers: []string{tmpl}}}}, Options{Issuers: []string{testIssuer, tmpl}})
	if err != nil {
		t.Fatal(err)
	}
	is := NewIssuers(v)
	var st State
	for _, c := range []struct {
		iss, tid string
		status   int
	}{
		{"https://login.example/contoso.example/v2.0", "contoso.example", 200},
		{"https://login.example/fabrikam.example/v2.0", "fabrikam.example", 200},
		{testIssuer, "", 403},
	} {
		tok, err := testKey.Sign(claims(func(m map[string]any) { m["iss"], m["tid"] = c.iss, c.tid }))
		if err != nil {
			t.Fatal(err)
		}
		d := pol.Decide(req("GET", "h", "/", hdr("Authorization", "Bearer "+tok)), is, &st)
		if d.Status() != c.status {
			t.Errorf("%s: %d %s, want %d", c.iss, d.Status(), d.Reason(), c.status)
		}
		if want := map[bool]string{true: tmpl, false: testIssuer}[c.tid != ""]; st.Issuer != want {
			t.Errorf("%s: State.Issuer %q, want %q", c.iss, st.Issuer, want)
		}
	}
}
