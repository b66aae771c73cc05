package engine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// plainReference is plainASCII byte by byte.
func plainReference(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// plainify maps every byte of data that is not plain onto a plain byte
// that matters to the scanner, so that most fuzz inputs reach the plain
// path whatever bytes the fuzzer picks.
func plainify(data []byte) []byte {
	const structural = `"{}[]:, 0123456789-.eEtrufalsn"`
	out := bytes.Clone(data)
	for i, c := range out {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			out[i] = structural[int(c)%len(structural)]
		}
	}
	return out
}

// parseBoth runs the claims scan of data on the general path and, when data
// is plain, on the plain path too, and fails t unless both give the same
// error and the same claims. It returns the general path's error.
func parseBoth(t *testing.T, data []byte) error {
	t.Helper()
	plain := plainASCII(data)
	if want := plainReference(data); plain != want {
		t.Fatalf("plainASCII(%q) = %v, want %v", data, plain, want)
	}
	var general Token
	general.grow(2 * len(data))
	errGeneral := parseClaims(&general, data, false)
	// Every verdict but a duplicate (reported as soon as it is met) says
	// whether the whole text is one valid object; the object scanner,
	// itself checked against encoding/json, must agree.
	if errGeneral != errClaimDup {
		if _, valid := scanAll(data); valid != (errGeneral != errPayloadJSON) {
			t.Fatalf("claims scan: %v; object scanner: valid=%v\npayload %q", errGeneral, valid, data)
		}
	}
	if !plain {
		return errGeneral
	}
	var fast Token
	fast.grow(2 * len(data))
	errPlain := parseClaims(&fast, data, true)
	if errPlain != errGeneral {
		t.Fatalf("plain path: %v; general path: %v\npayload %q", errPlain, errGeneral, data)
	}
	if errGeneral == nil {
		if g, p := claimsString(&general.Claims), claimsString(&fast.Claims); g != p {
			t.Fatalf("plain path read\n%s\ngeneral path read\n%s\npayload %q", p, g, data)
		}
	}
	return errGeneral
}

// claimsString renders everything Claims holds, for comparison.
func claimsString(c *Claims) string {
	return fmt.Sprintf("iss=%q sub=%q jti=%q aud=%q exp=%d nbf=%d iat=%d scope=%q present=%b",
		c.Issuer, c.Subject, c.ID, c.Audience, c.ExpiresAt, c.NotBefore, c.IssuedAt, c.Scope, c.present)
}

// FuzzClaimsPlain checks the plain fast path of the claims scan against the
// general path on the same input (the same error and the same claims), the
// general path's validity against the object scanner's, and plainASCII against
// a byte-by-byte check; each input is tried as given and made plain.
func FuzzClaimsPlain(f *testing.F) {
	for _, c := range plainHostile {
		f.Add([]byte(c.payload))
	}
	f.Add([]byte(benchPayload))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseBoth(t, data)
		parseBoth(t, plainify(data))
	})
}

// plainHostile are payloads aimed at the plain fast path: each is checked
// on both paths, and the plain path must be taken exactly when plain says.
var plainHostile = []struct {
	name    string
	payload string
	plain   bool
	err     error
	claims  string // claimsString of the result, when err is nil and it is set
}{
	{"access token", benchPayload, true, nil, ""},
	{"empty object", `{}`, true, nil, `iss="" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="" present=0`},
	{"whitespace everywhere", " \t\r\n{ \"iss\" : \"a\" ,\n\"exp\"\t:\t1767225600 , \"aud\" : [ \"x\" , \"y\" ] }\r\n", false, nil,
		`iss="a" sub="" jti="" aud=["x" "y"] exp=1767225600 nbf=0 iat=0 scope="" present=1101`},
	{"spaces only", `{ "iss" : "a" , "exp" : 1767225600 , "aud" : [ "x" , "y" ] } `, true, nil,
		`iss="a" sub="" jti="" aud=["x" "y"] exp=1767225600 nbf=0 iat=0 scope="" present=1101`},
	{"exp 1e3", `{"exp":1e3}`, true, nil, `iss="" sub="" jti="" aud=[] exp=1000 nbf=0 iat=0 scope="" present=1000`},
	{"exp -1", `{"exp":-1}`, true, nil, `iss="" sub="" jti="" aud=[] exp=-1 nbf=0 iat=0 scope="" present=1000`},
	{"exp fraction", `{"exp":1767225600.9}`, true, nil, `iss="" sub="" jti="" aud=[] exp=1767225600 nbf=0 iat=0 scope="" present=1000`},
	{"exp 15 digits", `{"exp":999999999999999}`, true, nil, `iss="" sub="" jti="" aud=[] exp=999999999999999 nbf=0 iat=0 scope="" present=1000`},
	{"exp 16 digits", `{"exp":9999999999999999,"x":1}`, true, nil, `iss="" sub="" jti="" aud=[] exp=9999999999999999 nbf=0 iat=0 scope="" present=1000`},
	{"exp 20 digits", `{"exp":99999999999999999999}`, true, nil, `iss="" sub="" jti="" aud=[] exp=9223372036854775807 nbf=0 iat=0 scope="" present=1000`},
	{"exp 0", `{"exp":0}`, true, nil, `iss="" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="" present=1000`},
	{"exp 01", `{"exp":01}`, true, errPayloadJSON, ""},
	{"exp 01 mid", `{"exp":01,"iss":"a"}`, true, errPayloadJSON, ""},
	{"exp 1.", `{"exp":1.}`, true, errPayloadJSON, ""},
	{"exp 1e", `{"exp":1e,"iss":"a"}`, true, errPayloadJSON, ""},
	{"exp +1", `{"exp":+1}`, true, errPayloadJSON, ""},
	{"exp string", `{"exp":"1767225600"}`, true, errTypeExp, ""},
	{"nbf bool", `{"nbf":true}`, true, errTypeNbf, ""},
	{"iat null", `{"iat":null}`, true, errTypeIat, ""},
	{"iss number", `{"iss":1767225600}`, true, errTypeIss, ""},
	{"type error then bad JSON", `{"iss":1,"x":01}`, true, errPayloadJSON, ""},
	{"duplicate exp", `{"exp":1,"exp":2}`, true, errClaimDup, ""},
	{"duplicate scope", `{"scope":"a","x":1,"scope":"b"}`, true, errClaimDup, ""},
	{"duplicate before bad JSON", `{"iss":"a","iss":"b",`, true, errClaimDup, ""},
	{"duplicate escaped", `{"iss":"a","\u0069ss":"b"}`, false, errClaimDup, ""},
	{"duplicate other", `{"role":"a","role":"b"}`, true, errClaimDup, ""},
	{"registered name at the end", `{"x":1,"iss":"a"}`, true, nil, `iss="a" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="" present=1`},
	{"short registered name at the end", `{"iat":1}`, true, nil, `iss="" sub="" jti="" aud=[] exp=0 nbf=0 iat=1 scope="" present=100000`},
	{"name prefix of registered", `{"is":"a","issx":"b","scop":"c","scopes":"d"}`, true, nil, `iss="" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="" present=0`},
	{"trailing garbage", `{"iss":"a"}x`, true, errPayloadJSON, ""},
	{"trailing object", `{"iss":"a"} {}`, true, errPayloadJSON, ""},
	{"trailing comma", `{"iss":"a",}`, true, errPayloadJSON, ""},
	{"unterminated string", `{"iss":"abcdefghijklmnopqrstuvwxyz`, true, errPayloadJSON, ""},
	{"unterminated name", `{"abcdefghijklmnopqrstuvwxyz`, true, errPayloadJSON, ""},
	{"missing colon", `{"iss" "a"}`, true, errPayloadJSON, ""},
	{"deep arrays", `{"x":` + strings.Repeat("[", maxJSONDepth-1) + strings.Repeat("]", maxJSONDepth-1) + `}`, true, nil, ""},
	{"too deep arrays", `{"x":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}`, true, errPayloadJSON, ""},
	{"very deep", `{"x":` + strings.Repeat(`{"a":`, 100000), true, errPayloadJSON, ""},
	{"aud array", `{"aud":["a","bcdefghijklmnop",""]}`, true, nil, `iss="" sub="" jti="" aud=["a" "bcdefghijklmnop" ""] exp=0 nbf=0 iat=0 scope="" present=100`},
	{"aud array of number", `{"aud":["a",1]}`, true, errTypeAud, ""},
	{"scp array", `{"scp":["read","","write"]}`, true, nil, `iss="" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="read  write" present=0`},
	{"backslash in string", `{"iss":"a\"b"}`, false, nil, `iss="a\"b" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="" present=1`},
	{"backslash before quote at a word's end", `{"iss":"abcdef\"gh"}`, false, nil, `iss="abcdef\"gh" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="" present=1`},
	{"lone backslash", `{"iss":"\"}`, false, errPayloadJSON, ""},
	{"control character", "{\"iss\":\"a\x01b\"}", false, errPayloadJSON, ""},
	{"tab in string", "{\"iss\":\"a\tb\"}", false, errPayloadJSON, ""},
	{"DEL in string", "{\"iss\":\"a\x7fb\"}", false, nil, "iss=\"a\\x7fb\" sub=\"\" jti=\"\" aud=[] exp=0 nbf=0 iat=0 scope=\"\" present=1"},
	{"DEL outside strings", "{\"iss\":\"a\"}\x7f", false, errPayloadJSON, ""},
	{"non-ASCII", `{"iss":"é"}`, false, nil, `iss="é" sub="" jti="" aud=[] exp=0 nbf=0 iat=0 scope="" present=1`},
	{"invalid UTF-8", "{\"iss\":\"\xff\"}", false, errPayloadJSON, ""},
}

// TestClaimsPlainHostile runs the plain-path table: plainASCII's verdict, the
// error, and (for a valid payload) the claims, the same on both paths.
// Strings of every length from 0 to 80 put the closing quote at every
// position of an 8-byte word and past the word-at-a-time part.
func TestClaimsPlainHostile(t *testing.T) {
	cases := plainHostile
	for n := 0; n <= 80; n++ {
		s := strings.Repeat("abcdefghij", 9)[:n]
		cases = append(cases, struct {
			name    string
			payload string
			plain   bool
			err     error
			claims  string
		}{fmt.Sprintf("string of %d bytes", n), `{"` + s + `":1,"sub":"` + s + `","jti":"` + s + `x"}`, true, nil,
			fmt.Sprintf(`iss="" sub=%q jti=%q aud=[] exp=0 nbf=0 iat=0 scope="" present=1000010`, s, s+"x")})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.payload)
			if got := plainASCII(data); got != c.plain {
				t.Fatalf("plainASCII = %v, want %v", got, c.plain)
			}
			err := parseBoth(t, data)
			if err != c.err {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			var tok Token
			if err := ScanClaims(data, &tok); err != c.err {
				t.Fatalf("ScanClaims: %v, want %v", err, c.err)
			}
			if c.err == nil && c.claims != "" {
				if got := claimsString(&tok.Claims); got != c.claims {
					t.Fatalf("claims\n%s\nwant\n%s", got, c.claims)
				}
			}
		})
	}
}
