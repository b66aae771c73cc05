package engine_test

import (
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

func TestAppendClaimText(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{`"plain"`, "plain", true},
		{` "padded" `, "padded", true},
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
		{`1 2`, "", false}, // two values
		{`[ "a" , 2, ["b", "c"], {"k" : "v w"} ]`, `a;2;b;c;{"k":"v w"}`, true},
		{`[]`, "", true},
		{`[ "a"`, "", false},
		{`{ "a" : [ 1 , 2 ] , "b" : "x y" }`, `{"a":[1,2],"b":"x y"}`, true},
		{`{"a":"unterminated}`, "", false},
	} {
		got, ok := engine.AppendClaimText(nil, []byte(c.in), ";")
		if ok != c.ok || ok && string(got) != c.want {
			t.Errorf("%s: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAppendClaimTextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	v := []byte(`["admin", "ops\u00e9", {"k": 1}]`)
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { engine.AppendClaimText(dst[:0], v, ",") }); n != 0 {
		t.Fatalf("AppendClaimText allocates %.0f times into a large enough dst", n)
	}
}
