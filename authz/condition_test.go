package authz

import (
	"errors"
	"strings"
	"testing"
)

// holdsOn compiles conds (all must hold) and evaluates them on payload.
func holdsOn(t *testing.T, payload string, conds ...Condition) bool {
	t.Helper()
	var p problems
	c := compileConditions(&p, nil, "require", `"r"`, conds)
	if err := p.err(); err != nil {
		t.Fatal(err)
	}
	var scratch []byte
	scannedOK := c.satisfied(&claimView{raw: []byte(payload)}, &scratch) == nil
	// The same through a policy, which reads claims through its index.
	pol := mustCompile(t, &Config{Routes: []Route{{Name: "r", Require: conds}}})
	var st State
	indexedOK := pol.Check(req("GET", "h", "/", nil), scanned(t, payload), nil, &st).Allowed
	if scannedOK != indexedOK {
		t.Fatalf("scanning says %v, the index says %v", scannedOK, indexedOK)
	}
	return scannedOK
}

const opPayload = `{"s":"admin","n":5,"f":1.5,"neg":-2,"t":true,"fa":false,"null":null,` +
	`"arr":["a","b","c"],"nums":[1,2,3],"mixed":["1",1,true,null,{"a":1},["a"]],` +
	`"obj":{"k":"v"},"words":"read write  admin","esc":"caf\u00e9","escarr":["caf\u00e9","\"q\""],` +
	`"escwords":"read caf\u00e9","empty":"","emptyarr":[],"big":1e400}`

func TestOperators(t *testing.T) {
	cases := []struct {
		name  string
		claim string
		op    string
		value any
		want  bool
	}{
		// equals
		{"string equals", "s", OpEquals, "admin", true},
		{"string differs", "s", OpEquals, "Admin", false},
		{"number equals", "n", OpEquals, 5, true},
		{"number as float", "n", OpEquals, 5.0, true},
		{"uint", "n", OpEquals, uint64(5), true},
		{"fraction", "f", OpEquals, 1.5, true},
		{"negative", "neg", OpEquals, -2, true},
		{"number never equals string", "n", OpEquals, "5", false},
		{"string never equals number", "s", OpEquals, 5, false},
		{"bool true", "t", OpEquals, true, true},
		{"bool false", "fa", OpEquals, false, true},
		{"bool vs string", "t", OpEquals, "true", false},
		{"null never equals", "null", OpEquals, "null", false},
		{"array is no scalar", "arr", OpEquals, "a", false},
		{"object is no scalar", "obj", OpEquals, "v", false},
		{"missing never matches", "nope", OpEquals, "admin", false},
		{"escaped string", "esc", OpEquals, "café", true},
		{"escaped string differs", "esc", OpEquals, "cafe", false},
		{"empty string", "empty", OpEquals, "", true},
		{"overflowing number", "big", OpEquals, 5, false},
		// one_of
		{"one_of hit", "s", OpOneOf, []any{"user", "admin"}, true},
		{"one_of miss", "s", OpOneOf, []any{"user", "root"}, false},
		{"one_of typed", "n", OpOneOf, []any{"5", 6}, false},
		{"one_of number", "n", OpOneOf, []any{"5", 5}, true},
		{"one_of []string", "s", OpOneOf, []string{"admin"}, true},
		{"one_of on array", "arr", OpOneOf, []any{"a"}, false},
		{"one_of missing", "nope", OpOneOf, []any{"a"}, false},
		// exists
		{"exists string", "s", OpExists, nil, true},
		{"exists empty string", "empty", OpExists, nil, true},
		{"exists object", "obj", OpExists, nil, true},
		{"exists false bool", "fa", OpExists, nil, true},
		{"null does not exist", "null", OpExists, nil, false},
		{"missing does not exist", "nope", OpExists, nil, false},
		{"nested exists", "obj.k", OpExists, nil, true},
		{"nested missing", "obj.x", OpExists, nil, false},
		// prefix
		{"prefix hit", "s", OpPrefix, "adm", true},
		{"prefix whole", "s", OpPrefix, "admin", true},
		{"prefix longer", "s", OpPrefix, "admins", false},
		{"prefix miss", "s", OpPrefix, "dmin", false},
		{"prefix on number", "n", OpPrefix, "5", false},
		{"prefix on array", "arr", OpPrefix, "a", false},
		{"prefix escaped", "esc", OpPrefix, "caf", true},
		{"prefix escaped rune", "esc", OpPrefix, "café", true},
		{"prefix escaped miss", "esc", OpPrefix, "cafe", false},
		// contains
		{"array contains", "arr", OpContains, "b", true},
		{"array lacks", "arr", OpContains, "d", false},
		{"array contains number", "nums", OpContains, 2, true},
		{"array number vs string", "nums", OpContains, "2", false},
		{"mixed string", "mixed", OpContains, "1", true},
		{"mixed number", "mixed", OpContains, 1, true},
		{"mixed bool", "mixed", OpContains, true, true},
		{"mixed nested array not flattened", "mixed", OpContains, "a", false},
		{"words contain", "words", OpContains, "admin", true},
		{"words lack", "words", OpContains, "adm", false},
		{"words empty word", "words", OpContains, "", true},
		{"word number", "words", OpContains, 5, false},
		{"string scalar is a word list", "s", OpContains, "admin", true},
		{"escaped array", "escarr", OpContains, "café", true},
		{"escaped quote", "escarr", OpContains, `"q"`, true},
		{"escaped words", "escwords", OpContains, "café", true},
		{"contains on number", "n", OpContains, 5, false},
		{"contains on object", "obj", OpContains, "v", false},
		{"contains on null", "null", OpContains, "x", false},
		{"contains in empty array", "emptyarr", OpContains, "x", false},
		{"contains missing", "nope", OpContains, "x", false},
		// contains_any
		{"any hit", "arr", OpContainsAny, []any{"x", "c"}, true},
		{"any miss", "arr", OpContainsAny, []any{"x", "y"}, false},
		{"any words", "words", OpContainsAny, []any{"x", "write"}, true},
		{"any typed", "nums", OpContainsAny, []any{"1", "2"}, false},
		// contains_all
		{"all hit", "arr", OpContainsAll, []any{"a", "c"}, true},
		{"all partial", "arr", OpContainsAll, []any{"a", "x"}, false},
		{"all words", "words", OpContainsAll, []any{"read", "admin"}, true},
		{"all empty array", "emptyarr", OpContainsAll, []any{"a"}, false},
		{"all missing", "nope", OpContainsAll, []any{"a"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := holdsOn(t, opPayload, Condition{Claim: c.claim, Op: c.op, Value: c.value})
			if got != c.want {
				t.Errorf("%s %s %v: %v, want %v", c.claim, c.op, c.value, got, c.want)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	isAdmin := Condition{Claim: "s", Op: OpEquals, Value: "admin"}
	isUser := Condition{Claim: "s", Op: OpEquals, Value: "user"}
	hasA := Condition{Claim: "arr", Op: OpContains, Value: "a"}
	hasX := Condition{Claim: "arr", Op: OpContains, Value: "x"}
	cases := []struct {
		name  string
		conds []Condition
		want  bool
	}{
		{"implicit all", []Condition{isAdmin, hasA}, true},
		{"implicit all fails", []Condition{isAdmin, hasX}, false},
		{"all", []Condition{{All: []Condition{isAdmin, hasA}}}, true},
		{"all fails", []Condition{{All: []Condition{hasX, isAdmin}}}, false},
		{"any", []Condition{{Any: []Condition{isUser, hasA}}}, true},
		{"any fails", []Condition{{Any: []Condition{isUser, hasX}}}, false},
		{"nested any in all", []Condition{{All: []Condition{isAdmin, {Any: []Condition{hasX, hasA}}}}}, true},
		{"nested all in any", []Condition{{Any: []Condition{{All: []Condition{isUser, hasA}}, {All: []Condition{isAdmin, hasA}}}}}, true},
		{"nested all in any fails", []Condition{{Any: []Condition{{All: []Condition{isUser, hasA}}, {All: []Condition{isAdmin, hasX}}}}}, false},
	}
	for _, c := range cases {
		if got := holdsOn(t, opPayload, c.conds...); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestFailedConditionNamed: the refusal names the route and the condition
// (its name, or its position), never the claim's value.
func TestFailedConditionNamed(t *testing.T) {
	var p problems
	c := compileConditions(&p, nil, "routes[0].require", `"admin"`, []Condition{
		{Claim: "s", Op: OpEquals, Value: "admin"},
		{Any: []Condition{{Claim: "arr", Op: OpContains, Value: "x"}, {Claim: "arr", Op: OpContains, Value: "y"}}},
		{Name: "is-root", Claim: "n", Op: OpEquals, Value: 0},
	})
	if err := p.err(); err != nil {
		t.Fatal(err)
	}
	var scratch []byte
	d := c.satisfied(&claimView{raw: []byte(`{"s":"admin","arr":["secret-value"],"n":0}`)}, &scratch)
	if d == nil || d.Condition() != `"admin": routes[0].require[1]` || d.Reason() != "rule_condition" || d.Status() != 403 {
		t.Fatalf("got %+v", d)
	}
	d = c.satisfied(&claimView{raw: []byte(`{"s":"admin","arr":["x"],"n":7}`)}, &scratch)
	if d == nil || d.Condition() != `"admin": is-root` {
		t.Fatalf("got %+v", d)
	}
	body := string(d.AppendJSON(nil, false)) + string(d.AppendChallenge(nil, "r"))
	if strings.Contains(body, "7") || strings.Contains(body, "secret") {
		t.Errorf("the refusal shows a claim value: %s", body)
	}
}

func TestConditionCompileErrors(t *testing.T) {
	cases := []struct {
		name  string
		cond  Condition
		kind  error
		field string
		words []string
	}{
		{"unknown operator", Condition{Claim: "a", Op: "equal", Value: "x"}, ErrOperator, "require[0].op", []string{`"equal"`, "one_of"}},
		{"regex operator", Condition{Claim: "a", Op: "matches", Value: ".*"}, ErrOperator, "require[0].op", []string{"matches"}},
		{"no op", Condition{Claim: "a", Value: "x"}, ErrOperator, "require[0].op", []string{"no op"}},
		{"test and group", Condition{Claim: "a", Op: OpExists, All: []Condition{{Claim: "b", Op: OpExists}}}, ErrOperator, "require[0]", []string{"exactly one"}},
		{"empty condition", Condition{}, ErrOperator, "require[0]", []string{"exactly one"}},
		{"empty group", Condition{Any: []Condition{}}, ErrOperator, "require[0].any", []string{"empty"}},
		{"malformed path", Condition{Claim: "a..b", Op: OpExists}, ErrClaimPath, "require[0].claim", []string{"a..b", "bracket"}},
		{"exists with value", Condition{Claim: "a", Op: OpExists, Value: true}, ErrValue, "require[0].value", []string{"no value"}},
		{"equals without value", Condition{Claim: "a", Op: OpEquals}, ErrValue, "require[0].value", []string{"missing", "exists"}},
		{"equals a list", Condition{Claim: "a", Op: OpEquals, Value: []any{"x"}}, ErrValue, "require[0].value", []string{"list"}},
		{"equals a map", Condition{Claim: "a", Op: OpEquals, Value: map[string]any{"x": 1}}, ErrValue, "require[0].value", []string{"mapping"}},
		{"one_of a scalar", Condition{Claim: "a", Op: OpOneOf, Value: "x"}, ErrValue, "require[0].value", []string{"list"}},
		{"one_of empty", Condition{Claim: "a", Op: OpOneOf, Value: []any{}}, ErrValue, "require[0].value", []string{"0 elements"}},
		{"one_of nested list", Condition{Claim: "a", Op: OpContainsAny, Value: []any{[]any{"x"}}}, ErrValue, "require[0].value[0]", []string{"list"}},
		{"prefix number", Condition{Claim: "a", Op: OpPrefix, Value: 5}, ErrValue, "require[0].value", []string{"string"}},
		{"prefix empty", Condition{Claim: "a", Op: OpPrefix, Value: ""}, ErrValue, "require[0].value", []string{"every string"}},
		{"long value", Condition{Claim: "a", Op: OpEquals, Value: strings.Repeat("x", maxOperandBytes+1)}, ErrValue, "require[0].value", []string{"longer"}},
		{"deep nesting", deep(maxConditionDepth + 1), ErrOperator, "", []string{"nested"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p problems
			compileConditions(&p, nil, "require", `"r"`, []Condition{c.cond})
			err := p.err()
			if err == nil {
				t.Fatal("compiled, want an error")
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("%v: not %v", err, c.kind)
			}
			var ce *CompileError
			if !errors.As(err, &ce) || c.field != "" && ce.Field != c.field {
				t.Errorf("%v: field %q, want %q", err, ce.Field, c.field)
			}
			if ce.Fix == "" {
				t.Errorf("%v: names no fix", err)
			}
			for _, w := range c.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v: does not say %q", err, w)
				}
			}
		})
	}
}

func deep(n int) Condition {
	c := Condition{Claim: "a", Op: OpExists}
	for i := 0; i < n; i++ {
		c = Condition{All: []Condition{c}}
	}
	return c
}
