package main

import (
	"io"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	code, out, errOut := runCmd(t, "")
	if code != exitUsage || out != "" || !strings.Contains(errOut, "Commands:") {
		t.Fatalf("no arguments: exit %d, stdout %q, stderr %q: want 2 and usage on stderr", code, out, errOut)
	}
	for _, name := range []string{"verify", "keys", "bench"} {
		if !strings.Contains(errOut, "\n  "+name+" ") {
			t.Errorf("usage does not list %q:\n%s", name, errOut)
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, errOut := runCmd(t, "", args...)
		if code != exitOK || errOut != "" || !strings.Contains(out, "Commands:") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want 0 and usage on stdout", args, code, out, errOut)
		}
	}
	code, out, errOut = runCmd(t, "", "help", "keys")
	if code != exitOK || !strings.Contains(out, "Usage: jwtgate keys") {
		t.Errorf("help keys: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "", "help", "frobnicate")
	if code != exitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("help frobnicate: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "", "frobnicate", "--x")
	if code != exitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) || !strings.Contains(errOut, "Commands:") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering a command name twice must panic")
		}
	}()
	register(command{name: "keys", run: func([]string, io.Writer, io.Writer) int { return 0 }})
}

func TestFlagError(t *testing.T) {
	cases := map[string]string{
		"flag provided but not defined: -x":                    "flag provided but not defined: --x",
		"flag needs an argument: -jwks":                        "flag needs an argument: --jwks",
		`invalid value "a" for flag -concurrency: parse error`: `invalid value "a" for flag --concurrency: parse error`,
		`invalid boolean value "m" for -summary: parse error`:  `invalid boolean value "m" for --summary: parse error`,
		"flag provided but not defined: --already":             "flag provided but not defined: --already",
		"bad flag syntax: ---x":                                "bad flag syntax: ---x",
	}
	for in, want := range cases {
		if got := flagError(errString(in)); got != want {
			t.Errorf("flagError(%q) = %q, want %q", in, got, want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestErrorsSuggestTheFix checks that a mistyped command, subcommand or flag
// is answered with the closest real one, and a bad duration with its units.
func TestErrorsSuggestTheFix(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"verfy"}, `unknown command "verfy"; did you mean verify?`},
		{[]string{"serv"}, `unknown command "serv"; did you mean serve?`},
		{[]string{"help", "kyes"}, `unknown command "kyes"; did you mean keys?`},
		{[]string{"keys", "gen"}, `unknown subcommand "gen"; did you mean generate?`},
		{[]string{"keys", "sing"}, `unknown subcommand "sing"; did you mean sign?`},
		{[]string{"verify", "--jwk", "x"}, "flag provided but not defined: --jwk; did you mean --jwks?"},
		{[]string{"verify", "--isuer", "x"}, "--isuer; did you mean --issuer?"},
		{[]string{"serve", "--listn", "x"}, "--listn; did you mean --listen?"},
		{[]string{"keys", "sign", "--exp", "1d"}, `invalid value "1d" for flag --exp: parse error (a duration is a number with a unit: ns, us, ms, s, m or h, e.g. 90s, 15m or 24h`},
	}
	for _, c := range cases {
		code, _, errOut := runCmd(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q: want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {"verify", "--zzzzzz"}} {
		if _, _, errOut := runCmd(t, "", args...); strings.Contains(errOut, "did you mean") {
			t.Errorf("%v: %q suggests a name that is not close", args, errOut)
		}
	}
}
