package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestClaimsAudScopeForms reads "aud", "scope" and "scp" (and exp, nbf and
// iat of every type, which share their branches) in every form a token can
// give them — strings (plain, escaped, empty, with escaped names),
// arrays, other JSON types, both scope claims in either order, duplicates
// spelled with escapes — through parseClaims on the plain and the general
// path, and compares what it reads with encoding/json's reading of the same
// payload under the rules of Claims: aud a string or an array of strings,
// scope a string and the winner, scp a string or an array joined by spaces.
func TestClaimsAudScopeForms(t *testing.T) {
	values := []string{`"api://gateway"`, `""`, `"a\u0062c"`, `"a\"b"`, `"tab\there"`, `["x","y"]`, `["x"]`, `[]`, `[1]`, `["x",2]`,
		`7`, `null`, `true`, `{}`, `{"a":"b"}`, `"\u00e9t\u00e9"`}
	names := map[string][]string{
		"aud":   {`"aud"`, `"\u0061ud"`},
		"scope": {`"scope"`, `"sc\u006fpe"`},
		"scp":   {`"scp"`},
	}
	var payloads []string
	for _, claim := range []string{"aud", "scope", "scp"} {
		for _, name := range names[claim] {
			for _, v := range values {
				payloads = append(payloads, `{"iss":"i",`+name+`:`+v+`,"exp":1}`, `{`+name+`:`+v+`}`, `{"sub":"s", `+name+` : `+v+` }`)
			}
		}
	}
	for _, a := range values {
		for _, b := range values {
			payloads = append(payloads, `{"scope":`+a+`,"scp":`+b+`}`, `{"scp":`+b+`,"scope":`+a+`}`, `{"aud":`+a+`,"scope":`+b+`}`)
		}
	}
	for _, date := range []string{`"exp"`, `"nbf"`, `"iat"`, `"\u0065xp"`} {
		for _, v := range values {
			payloads = append(payloads, `{"aud":"a",`+date+`:`+v+`,"scope":"s"}`)
		}
	}
	payloads = append(payloads, `{"aud":"a","\u0061ud":"b"}`, `{"scope":"a","sc\u006fpe":"b"}`, `{"aud":"a","aud":"a"}`, `{"scope":"a","scope":"a"}`)
	for _, p := range payloads {
		want, wantErr := referenceAudScope([]byte(p))
		for _, plain := range []bool{false, true} {
			if plain && !plainASCII([]byte(p)) {
				continue
			}
			var tok Token
			tok.grow(2 * len(p))
			err := parseClaims(&tok, []byte(p), plain)
			if !errors.Is(err, wantErr) || err != nil && err != wantErr {
				t.Fatalf("%s (plain %v): error %v, want %v", p, plain, err, wantErr)
			}
			if err != nil {
				continue
			}
			c := &tok.Claims
			got := fmt.Sprintf("aud=%q hasAud=%v scope=%q hasScope=%v", c.Audience, c.present&hasAud != 0, c.Scope, c.present&hasScope != 0)
			if got != want {
				t.Fatalf("%s (plain %v):\n read %s\n want %s", p, plain, got, want)
			}
		}
	}
}

// referenceAudScope reads aud, scope and scp from payload with
// encoding/json, as Claims describes them, and returns them formatted as
// TestClaimsAudScopeForms compares them, or the error parseClaims gives.
func referenceAudScope(payload []byte) (string, error) {
	var members []struct {
		name string
		raw  json.RawMessage
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	if _, err := dec.Token(); err != nil {
		return "", errPayloadJSON
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", errPayloadJSON
		}
		name := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", errPayloadJSON
		}
		if seen[name] {
			return "", errClaimDup
		}
		seen[name] = true
		members = append(members, struct {
			name string
			raw  json.RawMessage
		}{name, raw})
	}
	var aud [][]byte
	var scope []byte
	hasAudience, hasScopeClaim := false, false
	var typeErr error
	fail := func(err error) {
		if typeErr == nil {
			typeErr = err
		}
	}
	strs := func(raw json.RawMessage) ([][]byte, bool) {
		var s string
		if json.Unmarshal(raw, &s) == nil && raw[0] == '"' {
			return [][]byte{[]byte(s)}, true
		}
		var list []string
		if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
			return nil, false
		}
		out := [][]byte{}
		for _, s := range list {
			out = append(out, []byte(s))
		}
		return out, true
	}
	for _, m := range members {
		switch m.name {
		case "exp", "nbf", "iat":
			if c := m.raw[0]; c != '-' && (c < '0' || c > '9') {
				fail(map[string]error{"exp": errTypeExp, "nbf": errTypeNbf, "iat": errTypeIat}[m.name])
			}
		case "aud":
			list, ok := strs(m.raw)
			if !ok {
				fail(errTypeAud)
				continue
			}
			aud, hasAudience = list, true
		case "scope":
			var s string
			if m.raw[0] != '"' || json.Unmarshal(m.raw, &s) != nil {
				fail(errTypeScope)
				continue
			}
			scope, hasScopeClaim = []byte(s), true
		case "scp":
			list, ok := strs(m.raw)
			if !ok {
				fail(errTypeScp)
				continue
			}
			if !hasScopeClaim {
				var joined []string
				for _, s := range list {
					joined = append(joined, string(s))
				}
				scope = []byte(strings.Join(joined, " "))
			}
		}
	}
	if typeErr != nil {
		return "", typeErr
	}
	if aud == nil {
		aud = [][]byte{}
	}
	return fmt.Sprintf("aud=%q hasAud=%v scope=%q hasScope=%v", aud, hasAudience, scope, hasScopeClaim), nil
}

// TestClaimsPlainStringEnds ends a claim's string value at every offset
// from the opening quote up to past the 64 bytes looked at a word at a
// time, at the very end of the payload and before longer followers, with
// and without its closing quote, and checks that the plain path's inline
// quote search reads what the general path's string scanner reads.
func TestClaimsPlainStringEnds(t *testing.T) {
	for n := 0; n <= 90; n++ {
		for _, name := range []string{"sub", "iss", "jti", "aud", "scope", "other"} {
			for _, follow := range []string{`"}`, `","x":1}`, `"  }`, `"}` + strings.Repeat(" ", 20), `"`, ``, `}`} {
				p := []byte(`{"` + name + `":"` + strings.Repeat("a", n) + follow)
				var general, fast Token
				general.grow(2 * len(p))
				fast.grow(2 * len(p))
				errGeneral := parseClaims(&general, p, false)
				errPlain := parseClaims(&fast, p, true)
				if errPlain != errGeneral {
					t.Fatalf("%s: plain path %v, general path %v", p, errPlain, errGeneral)
				}
				if g, f := claimsString(&general.Claims), claimsString(&fast.Claims); errGeneral == nil && g != f {
					t.Fatalf("%s: plain path read\n%s\ngeneral path read\n%s", p, f, g)
				}
			}
		}
	}
}
