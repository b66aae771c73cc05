package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// fixture is a key, its JWKS file and a token factory.
type fixture struct {
	dir  string
	key  *sign.Key
	jwks string // path of the JWKS file
}

func newFixture(t testing.TB, alg engine.Alg, kid string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), key: sign.MustGenerate(alg, kid)}
	f.jwks = filepath.Join(f.dir, "jwks.json")
	if err := os.WriteFile(f.jwks, sign.JWKS(f.key), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// token signs claims, adding exp in an hour unless claims has "exp" (an
// "exp" of nil leaves it out).
func (f *fixture) token(t testing.TB, claims map[string]any) string {
	t.Helper()
	if claims == nil {
		claims = map[string]any{}
	}
	if exp, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
	} else if exp == nil {
		delete(claims, "exp") // nil means: no exp at all
	}
	tok, err := f.key.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// result is one parsed line of verify's output.
type result struct {
	Valid       bool           `json:"valid"`
	Error       string         `json:"error"`
	Reason      string         `json:"reason"`
	Description string         `json:"description"`
	Header      map[string]any `json:"header"`
	Claims      map[string]any `json:"claims"`
	Payload     *string        `json:"payload"`
	PayloadB64  string         `json:"payload_base64url"`
}

// runCmd runs a jwtgate command line in-process with stdin.
func runCmd(t testing.TB, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if len(args) > 0 && args[0] == "verify" {
		code = runVerify(args[1:], strings.NewReader(stdin), &out, &errOut)
	} else {
		code = run(args, &out, &errOut)
	}
	return code, out.String(), errOut.String()
}

// parseResults parses verify's output, one JSON object per line.
func parseResults(t testing.TB, out string) []result {
	t.Helper()
	var rs []result
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var r result
		err := dec.Decode(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("output is not JSON lines: %v\n%s", err, out)
		}
		rs = append(rs, r)
	}
	if lines := strings.Count(out, "\n"); lines != len(rs) {
		t.Fatalf("%d JSON objects on %d lines: want one per line\n%s", len(rs), lines, out)
	}
	return rs
}
