package authz

import (
	"encoding/json"
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
