package authz

import (
	"fmt"
	"sync"
	"testing"
)

// TestMemo: a cached token's conditions are evaluated once per route and the
// outcome kept, refusals included; every request gets the answer a fresh
// evaluation would give.
func TestMemo(t *testing.T) {
	f := newFixture(t, true)
	pol := mustCompile(t, &Config{Routes: []Route{
		{Name: "pass", Path: "/pass/**", Require: []Condition{{Claim: "realm_access.roles", Op: OpContains, Value: "user"}}},
		{Name: "fail", Path: "/fail/**", Require: []Condition{
			{Claim: "realm_access.roles", Op: OpContains, Value: "user"},
			{Name: "second", Any: []Condition{{Claim: "azp", Op: OpEquals, Value: "x"}, {Claim: "azp", Op: OpEquals, Value: "y"}}},
		}},
		{Name: "scoped", Path: "/scoped/**", Scopes: []string{"admin"}, Require: []Condition{{Claim: "sub", Op: OpExists}}},
	}})
	user := f.token(t, func(c map[string]any) {
		c["realm_access"] = map[string]any{"roles": []string{"user"}}
		c["azp"] = "web"
	})
	other := f.token(t, func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"guest"}}; c["azp"] = "x" })
	cases := []struct {
		tok, path string
		status    int
		condition string
	}{
		{user, "/pass/1", 200, ""},
		{user, "/fail/1", 403, `"fail": second`},
		{user, "/scoped/1", 403, ""},
		{other, "/pass/1", 403, `"pass": routes[0].require[0]`},
		{other, "/fail/1", 403, `"fail": routes[1].require[0]`},
	}
	var st State
	for round := 0; round < 3; round++ {
		for _, c := range cases {
			d := pol.Decide(req("GET", "x", c.path, hdr("Authorization", "Bearer "+c.tok)), f.v, &st)
			cond := ""
			if d.Denial != nil {
				cond = d.Denial.Condition()
			}
			if d.Status() != c.status || cond != c.condition {
				t.Errorf("round %d, %s: %d %q, want %d %q", round, c.path, d.Status(), cond, c.status, c.condition)
			}
			if round > 0 && d.Allowed && !d.Token.FromCache() {
				t.Errorf("round %d: not cached", round)
			}
		}
	}
}

// TestMemoConcurrent runs requests for one cached token on many routes from
// several goroutines (with -race: the memo words are shared).
func TestMemoConcurrent(t *testing.T) {
	cfg, mod := table(20)
	pol := mustCompile(t, cfg)
	f := newFixture(t, true)
	tok := f.token(t, mod)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st State
			for i := 0; i < 200; i++ {
				n := (i + g) % 20
				d := pol.Decide(req("GET", "x", fmt.Sprintf("/svc-%d/x", n), hdr("Authorization", "Bearer "+tok)), f.v, &st)
				if want := n == 19; d.Allowed != want {
					t.Errorf("route %d: allowed %v", n, d.Allowed)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestMemoAcrossEqualPolicies: a policy compiled again from an equal
// configuration (a reload that changes no route) reads what the one before
// kept with a cached token; a policy compiled from another one does not.
func TestMemoAcrossEqualPolicies(t *testing.T) {
	f := newFixture(t, true)
	cfg := func(role string) *Config {
		return &Config{Routes: []Route{{Name: "r", Require: []Condition{{Claim: "realm_access.roles", Op: OpContains, Value: role}}}}}
	}
	a, b, other := mustCompile(t, cfg("admin")), mustCompile(t, cfg("admin")), mustCompile(t, cfg("ops"))
	if a.tag != b.tag || a.tag == other.tag {
		t.Fatalf("tags %x %x %x", a.tag, b.tag, other.tag)
	}
	tok := f.token(t, func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"admin"}} })
	var st State
	r := req("GET", "h", "/", hdr("Authorization", "Bearer "+tok))
	if d := a.Decide(r, f.v, &st); !d.Allowed {
		t.Fatal(d.Reason())
	}
	if d := b.Decide(r, f.v, &st); !d.Allowed || !b.owns(d.Token.Attachment()) {
		t.Errorf("the equal policy does not read the kept block: %v", d.Allowed)
	}
	if d := other.Decide(r, f.v, &st); d.Allowed || other.owns(st.Token.Attachment()) {
		t.Errorf("another policy reads the kept block: %v", d.Allowed)
	}
}
