package server

import "testing"

func TestAppendClaimValue(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{`"plain"`, "plain", true},
		{`"a\"b\\c\/d\n"`, "a\"b\\c/d\n", true},
		{`"\u00e9\ud83d\ude00"`, "é😀", true},
		{`"\ud83d"`, "\uFFFD", true},   // lone high surrogate
		{`"\ude00x"`, "\uFFFDx", true}, // lone low surrogate
		{`"\u12"`, "", false},          // short escape
		{`"\q"`, "", false},            // unknown escape
		{`"open`, "", false},           // unterminated
		{`42`, "42", true},
		{`-1.5e3`, "-1.5e3", true},
		{`true`, "true", true},
		{`null`, "", true},
		{`nul`, "", false},
		{`[ "a" , 2, ["b", "c"], {"k" : "v w"} ]`, `a;2;b;c;{"k":"v w"}`, true},
		{`[]`, "", true},
		{`[ "a"`, "a", false},
		{`{ "a" : [ 1 , 2 ] , "b" : "x y" }`, `{"a":[1,2],"b":"x y"}`, true},
		{`{"a":"unterminated}`, `{"a":`, false},
	} {
		got, ok := appendClaimValue(nil, []byte(c.in), ";")
		if ok != c.ok || ok && string(got) != c.want {
			t.Errorf("%s: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
