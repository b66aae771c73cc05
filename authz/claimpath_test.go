package authz

import (
	"reflect"
	"testing"
)

func TestParseClaimPath(t *testing.T) {
	good := []struct {
		in   string
		want []string
	}{
		{"sub", []string{"sub"}},
		{"realm_access.roles", []string{"realm_access", "roles"}},
		{"resource_access.my-client.roles", []string{"resource_access", "my-client", "roles"}},
		{`["https://example.com/roles"]`, []string{"https://example.com/roles"}},
		{`https://example\.com/roles`, []string{"https://example.com/roles"}},
		{"cognito:groups", []string{"cognito:groups"}},
		{`a\.b`, []string{"a.b"}},
		{`a\\b`, []string{`a\b`}},
		{`resource_access["my.client"].roles`, []string{"resource_access", "my.client", "roles"}},
		{`a["b"]["c"]`, []string{"a", "b", "c"}},
		{`["q\"uote"]`, []string{`q"uote`}},
		{`["back\\slash"]`, []string{`back\slash`}},
	}
	for _, c := range good {
		p, err := parseClaimPath(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(p.names, c.want) {
			t.Errorf("%s: names %q, want %q", c.in, p.names, c.want)
		}
	}
	bad := []string{
		"", ".", "a.", ".a", "a..b", `a\`, `a\x`, `["a"`, `["a]`, `[a]`, `[""]`, `a.["b"]`,
		`["a"]b`, `a"b`, `a]b`, "a\x00b", string(make([]byte, maxPathBytes+1)),
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q",
	}
	for _, in := range bad {
		if p, err := parseClaimPath(in); err == nil {
			t.Errorf("%q: parsed as %q, want an error", in, p.names)
		}
	}
}

func TestClaimPathLookup(t *testing.T) {
	payload := []byte(`{"a":{"b":{"c":[1,2]}},"x.y":"dot","n":5,"esc\u0061ped":true,` +
		`"arr":[{"a":1}],"s":"str", "ws" : { "k" : "v" } }`)
	cases := []struct {
		path string
		want string // "" means missing
	}{
		{"a.b.c", "[1,2]"},
		{"a.b", `{"c":[1,2]}`},
		{`x\.y`, `"dot"`},
		{`["x.y"]`, `"dot"`},
		{"x", ""},
		{"n", "5"},
		{"n.x", ""},
		{"escaped", "true"},
		{"arr.a", ""},
		{"s.a", ""},
		{"ws.k", `"v"`},
		{"missing", ""},
	}
	for _, c := range cases {
		p, err := parseClaimPath(c.path)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := p.lookup(payload)
		if got := string(v); ok != (c.want != "") || got != c.want {
			t.Errorf("%s: got %q %v, want %q", c.path, got, ok, c.want)
		}
	}
}
