package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

func TestVerifyValidToken(t *testing.T) {
	f := newFixture(t, engine.ES256, "k1")
	tok := f.token(t, map[string]any{"sub": "alice", "iss": "https://idp", "aud": []string{"api", "web"}, "scope": "read"})
	for _, args := range [][]string{
		{"verify", "--jwks", f.jwks, tok},
		{"verify", tok, "--jwks", f.jwks}, // flags after the token
		{"verify", "--jwks=" + f.jwks, "--issuer", "https://idp", "--audience", "web", "--", tok}, // policy given
		{"verify", "--jwks", f.jwks, "  " + tok + "\r\n"},                                         // surrounding space
	} {
		code, out, errOut := runCmd(t, "", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d, stderr %s, stdout %s", args, code, errOut, out)
		}
		rs := parseResults(t, out)
		if len(rs) != 1 || !rs[0].Valid {
			t.Fatalf("%v: results %+v, want one valid", args, rs)
		}
		r := rs[0]
		if r.Header["alg"] != "ES256" || r.Header["kid"] != "k1" || r.Claims["sub"] != "alice" || r.Claims["scope"] != "read" {
			t.Fatalf("header %v claims %v: want the token's", r.Header, r.Claims)
		}
		if r.Error != "" || r.Reason != "" {
			t.Fatalf("a valid result carries error %q reason %q", r.Error, r.Reason)
		}
	}
}

func TestVerifyInvalidTokens(t *testing.T) {
	f := newFixture(t, engine.RS256, "k1")
	other := sign.MustGenerate(engine.RS256, "k1") // same kid, another key
	forged, _ := other.Sign(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	unknownKid := sign.MustGenerate(engine.RS256, "nope")
	unknown, _ := unknownKid.Sign(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	hs := sign.MustGenerate(engine.HS256, "k1")
	algSwap, _ := hs.Sign(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	body := base64.RawURLEncoding.EncodeToString([]byte(`{"exp":9999999999}`))
	cases := []struct {
		name, token, reason, code string
		flags                     []string
	}{
		{"bad signature", forged, "bad_signature", "invalid_token", nil},
		{"expired", f.token(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), "expired", "invalid_token", nil},
		{"no exp", f.token(t, map[string]any{"exp": nil}), "missing_claim", "invalid_token", nil},
		{"unknown kid", unknown, "unknown_kid", "invalid_token", nil},
		{"alg mismatch", algSwap, "alg_mismatch", "invalid_token", nil},
		{"alg none", noneHeader + "." + body + ".", "alg_none", "invalid_token", nil},
		{"malformed", "not-a-token", "malformed", "invalid_token", nil},
		{"wrong issuer", f.token(t, map[string]any{"iss": "https://evil"}), "issuer", "invalid_token", []string{"--issuer", "https://idp"}},
		{"wrong audience", f.token(t, map[string]any{"aud": "other"}), "audience", "invalid_token", []string{"--audience", "api"}},
		{"too large", strings.Repeat("a", engine.DefaultMaxTokenSize+1), "too_large", "invalid_token", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"verify", "--jwks", f.jwks}, c.flags...)
			code, out, errOut := runCmd(t, "", append(args, c.token)...)
			if code != exitFailure {
				t.Fatalf("exit %d, want 1; stdout %s stderr %s", code, out, errOut)
			}
			rs := parseResults(t, out)
			if len(rs) != 1 || rs[0].Valid || rs[0].Reason != c.reason || rs[0].Error != c.code || rs[0].Description == "" {
				t.Fatalf("results %+v, want one invalid with reason %q and error %q", rs, c.reason, c.code)
			}
			if rs[0].Claims != nil || rs[0].Header != nil {
				t.Fatalf("an invalid result must not print claims or header: %+v", rs[0])
			}
		})
	}
}

func TestVerifyStdinBulk(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	valid := f.token(t, map[string]any{"sub": "a"})
	valid2 := f.token(t, map[string]any{"sub": "b"})
	expired := f.token(t, map[string]any{"sub": "c", "exp": time.Now().Add(-time.Hour).Unix()})
	input := "\n" + valid + "\r\n   \n\t" + expired + "  \r\n" + valid2 + "\n" + valid + "\n\n" + "garbage" // no final newline
	code, out, errOut := runCmd(t, input, "verify", "--jwks", f.jwks)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1 (one token invalid); stderr %s", code, errOut)
	}
	rs := parseResults(t, out)
	want := []struct {
		valid bool
		what  string
	}{ // one verdict per input line, blank ones included, in input order
		{false, "empty"}, {true, "a"}, {false, "empty"}, {false, "expired"},
		{true, "b"}, {true, "a"}, {false, "empty"}, {false, "malformed"},
	}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(rs), len(want), out)
	}
	for i, w := range want {
		got := rs[i].Reason
		if rs[i].Valid {
			got = fmt.Sprint(rs[i].Claims["sub"])
		}
		if rs[i].Valid != w.valid || got != w.what {
			t.Errorf("result %d: valid %v %q, want %v %q", i, rs[i].Valid, got, w.valid, w.what)
		}
	}

	code, out, _ = runCmd(t, valid+"\n"+valid2+"\n", "verify", "--jwks", f.jwks)
	if code != exitOK || len(parseResults(t, out)) != 2 {
		t.Fatalf("all valid: exit %d, output %s; want 0 and two results", code, out)
	}
}

func TestVerifyStdinOverlongLine(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	valid := f.token(t, nil)
	huge := strings.Repeat("x", 3*verifyLineMax+17)
	input := huge + "\n" + valid + "\n" + huge // the last one without a newline
	code, out, _ := runCmd(t, input, "verify", "--jwks", f.jwks)
	rs := parseResults(t, out)
	if code != exitFailure || len(rs) != 3 {
		t.Fatalf("exit %d with %d results, want 1 with 3:\n%s", code, len(rs), out)
	}
	if rs[0].Reason != "too_large" || !rs[1].Valid || rs[2].Reason != "too_large" {
		t.Fatalf("results %+v: want too_large, valid, too_large", rs)
	}
}

func TestVerifyEmptyInputFails(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	code, out, errOut := runCmd(t, "", "verify", "--jwks", f.jwks)
	if code != exitFailure || out != "" || !strings.Contains(errOut, "no token") {
		t.Fatalf("no input: exit %d, stdout %q, stderr %q: want 1 and a message", code, out, errOut)
	}
}

// TestVerifyBlankLinesKeepTheirPlace checks that a blank or whitespace-only
// line gets its own "empty" verdict, so that the Nth verdict always belongs
// to the Nth line.
func TestVerifyBlankLinesKeepTheirPlace(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	valid := f.token(t, map[string]any{"sub": "a"})
	for _, c := range []struct {
		input string
		want  []string // "a" for the valid token, else the reason
	}{
		{"\n\n  \r\n", []string{"empty", "empty", "empty"}},
		{valid + "\n\n" + valid + "\n", []string{"a", "empty", "a"}},
		{"\t\r\n" + valid + "\r\n \t ", []string{"empty", "a", "empty"}},
		{"\r\n", []string{"empty"}},
	} {
		code, out, errOut := runCmd(t, c.input, "verify", "--jwks", f.jwks)
		rs := parseResults(t, out)
		if code != exitFailure || len(rs) != len(c.want) {
			t.Fatalf("input %q: exit %d, %d results, want 1 and %d:\n%s%s", c.input, code, len(rs), len(c.want), out, errOut)
		}
		for i, w := range c.want {
			got := rs[i].Reason
			if rs[i].Valid {
				got = fmt.Sprint(rs[i].Claims["sub"])
			}
			if got != w {
				t.Errorf("input %q, line %d: %q, want %q", c.input, i+1, got, w)
			}
			if w == "empty" && (rs[i].Valid || rs[i].Error != engine.OAuthInvalidToken || rs[i].Description == "") {
				t.Errorf("input %q, line %d: %+v: want invalid with an error code and a description", c.input, i+1, rs[i])
			}
		}
	}
}

// TestVerifyMessagesNameTheFix checks the verdicts a new user meets first:
// an oversized token names the cap and --max-token-size, which raises it;
// a token pasted with "Bearer " says so.
func TestVerifyMessagesNameTheFix(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	big := f.token(t, map[string]any{"pad": strings.Repeat("x", engine.DefaultMaxTokenSize)})
	code, out, _ := runCmd(t, "", "verify", "--jwks", f.jwks, big)
	rs := parseResults(t, out)
	if code != exitFailure || len(rs) != 1 || rs[0].Reason != "too_large" ||
		!strings.Contains(rs[0].Description, fmt.Sprint(engine.DefaultMaxTokenSize)) || !strings.Contains(rs[0].Description, "--max-token-size") {
		t.Fatalf("oversized token: exit %d, %s: want too_large naming %d and --max-token-size", code, out, engine.DefaultMaxTokenSize)
	}
	code, out, errOut := runCmd(t, big+"\n", "verify", "--jwks", f.jwks, "--max-token-size", fmt.Sprint(len(big)))
	if code != exitOK || !parseResults(t, out)[0].Valid {
		t.Fatalf("--max-token-size %d: exit %d, %s%s: want the token valid", len(big), code, out, errOut)
	}
	huge := f.token(t, map[string]any{"pad": strings.Repeat("x", 2*verifyLineMax)})
	code, out, errOut = runCmd(t, huge+"\n", "verify", "--jwks", f.jwks, "--max-token-size", fmt.Sprint(len(huge)))
	if code != exitOK || !parseResults(t, out)[0].Valid {
		t.Fatalf("a token longer than the default line buffer with --max-token-size %d: exit %d, %s%s", len(huge), code, out, errOut)
	}

	tok := f.token(t, nil)
	for _, pasted := range []string{"Bearer " + tok, "bearer\t" + tok} {
		code, out, _ = runCmd(t, pasted+"\n", "verify", "--jwks", f.jwks)
		rs = parseResults(t, out)
		if code != exitFailure || len(rs) != 1 || !strings.Contains(rs[0].Description, `"Bearer "`) {
			t.Fatalf("%q: exit %d, %s: want invalid saying the token starts with \"Bearer \"", pasted, code, out)
		}
	}
}

func TestVerifySummary(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	var in strings.Builder
	for i := range 1000 {
		claims := map[string]any{"sub": fmt.Sprint(i % 10)} // repeated tokens: cache hits
		if i%100 == 0 {
			claims["exp"] = time.Now().Add(-time.Hour).Unix()
		}
		in.WriteString(f.token(t, claims) + "\n")
	}
	code, out, errOut := runCmd(t, in.String(), "verify", "--summary", "--jwks", f.jwks)
	if code != exitFailure || out != `{"valid":990,"invalid":10}`+"\n" {
		t.Fatalf("exit %d, output %q, stderr %s: want 1 and {\"valid\":990,\"invalid\":10}", code, out, errOut)
	}
	code, out, _ = runCmd(t, "", "verify", "--summary", "--jwks", f.jwks, f.token(t, nil))
	if code != exitOK || out != `{"valid":1,"invalid":0}`+"\n" {
		t.Fatalf("one valid token: exit %d, output %q", code, out)
	}
}

func TestVerifyNoClaims(t *testing.T) {
	f := newFixture(t, engine.EdDSA, "k1")
	header := []byte(`{"alg":"EdDSA","kid":"k1"}`)
	text, _ := f.key.SignRaw(header, []byte("hello \"world\"\n"))
	binary, _ := f.key.SignRaw(header, []byte{0xff, 0x00, 0xfe})
	jsonNoExp, _ := f.key.SignRaw(header, []byte(`{"sub":"x"}`))
	other := sign.MustGenerate(engine.EdDSA, "k1")
	forged, _ := other.SignRaw(header, []byte("hello"))

	code, out, errOut := runCmd(t, text+"\n"+binary+"\n"+jsonNoExp+"\n"+forged+"\n", "verify", "--no-claims", "--jwks", f.jwks)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1 for the forged token; stderr %s", code, errOut)
	}
	rs := parseResults(t, out)
	if len(rs) != 4 {
		t.Fatalf("%d results, want 4:\n%s", len(rs), out)
	}
	if !rs[0].Valid || rs[0].Payload == nil || *rs[0].Payload != "hello \"world\"\n" || rs[0].Header["alg"] != "EdDSA" {
		t.Errorf("text payload: %+v", rs[0])
	}
	if !rs[1].Valid || rs[1].Payload != nil || rs[1].PayloadB64 != base64.RawURLEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe}) {
		t.Errorf("binary payload: %+v", rs[1])
	}
	if !rs[2].Valid || *rs[2].Payload != `{"sub":"x"}` || rs[2].Claims != nil {
		t.Errorf("JSON payload without exp must be valid with --no-claims and printed as a string: %+v", rs[2])
	}
	if rs[3].Valid || rs[3].Reason != "bad_signature" {
		t.Errorf("forged: %+v, want bad_signature", rs[3])
	}
	// Without --no-claims the non-JSON payloads are rejected.
	code, out, _ = runCmd(t, "", "verify", "--jwks", f.jwks, text)
	if rs := parseResults(t, out); code != exitFailure || rs[0].Reason != "malformed" {
		t.Errorf("text payload with claims checked: exit %d %+v, want malformed", code, rs)
	}
}

func TestVerifyOutputStaysOneLineOfValidJSON(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	exp := time.Now().Add(time.Hour).Unix()
	// Pretty-printed JSON with escapes and non-ASCII text.
	payload := fmt.Sprintf("{\n  \"exp\" : %d,\n\t\"name\": \"a\\u0041\\n\u00e9b\",\r\n \"n\": [1, 2 ,3] }", exp)
	tok, err := f.key.SignRaw([]byte("{ \"alg\" : \"HS256\",\n \"kid\":\"k1\" }"), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "", "verify", "--jwks", f.jwks, tok)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s, stdout %s", code, errOut, out)
	}
	rs := parseResults(t, out)
	if rs[0].Claims["name"] != "aA\néb" || rs[0].Header["kid"] != "k1" {
		t.Fatalf("claims %v header %v", rs[0].Claims, rs[0].Header)
	}
	if !json.Valid([]byte(out)) || strings.Count(out, "\n") != 1 {
		t.Fatalf("output is not one line of valid JSON: %q", out)
	}
}

func TestResultWriterHostileBytes(t *testing.T) {
	var w resultWriter
	// Not reachable through the verifier, which rejects invalid UTF-8 in
	// JSON strings; the writer must still never print invalid JSON.
	for _, raw := range []string{"{\"a\":\"\xff\"}", "{\"a\":1,}", "not json \x00\n\"", "{\"a\":\"\u2028\"}"} {
		out := w.appendObject(nil, []byte(raw))
		if !json.Valid(out) || bytes.ContainsAny(out, "\n\r") {
			t.Errorf("appendObject(%q) = %q: want one line of valid JSON", raw, out)
		}
	}
	for _, s := range []string{"", "plain", "q\"b\\s/", "\x00\x1f\t\r\n", "é€😀", "bad\xff\xfe utf8", "\xe2\x82"} {
		out := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: %v", s, out, err)
			continue
		}
		var want string // encoding/json's reading: each invalid byte becomes U+FFFD
		std, _ := json.Marshal(s)
		json.Unmarshal(std, &want)
		if back != want {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", s, back, want)
		}
	}
}

func TestVerifyJWKSFromURL(t *testing.T) {
	f := newFixture(t, engine.ES384, "k1")
	jwks := sign.JWKS(f.key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	defer srv.Close()
	code, out, errOut := runCmd(t, "", "verify", "--jwks", srv.URL+"/jwks", f.token(t, nil))
	if code != exitOK || !parseResults(t, out)[0].Valid {
		t.Fatalf("exit %d, out %s, stderr %s", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "", "verify", "--jwks", srv.URL+"/missing", f.token(t, nil))
	if code != exitUsage || !strings.Contains(errOut, "--jwks URL "+srv.URL+"/missing") {
		t.Fatalf("unreachable JWKS: exit %d, stderr %s: want 2 naming --jwks", code, errOut)
	}
}

func TestVerifyUsageErrors(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	notJWKS := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(notJWKS, []byte(`{"hello":"world"}`), 0o644)
	tok := f.token(t, nil)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus", tok}, "--bogus"},
		{[]string{"--jwks"}, "--jwks"},
		{[]string{tok}, "--jwks is required"},
		{[]string{"--jwks", f.jwks, tok, tok}, "at most one TOKEN"},
		{[]string{"--jwks", f.jwks, "--no-claims", "--issuer", "x", tok}, "--no-claims"},
		{[]string{"--jwks", f.jwks + ".missing", tok}, "--jwks file " + f.jwks + ".missing"},
		{[]string{"--jwks", notJWKS, tok}, "--jwks file " + notJWKS},
		{[]string{"--summary=maybe", "--jwks", f.jwks, tok}, "--summary"},
		{[]string{"--max-token-size", "0", "--jwks", f.jwks, tok}, "--max-token-size"},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(t, "", append([]string{"verify"}, c.args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want 2 and a message naming %q", c.args, code, out, errOut, c.want)
		}
	}
}

func TestVerifyHelp(t *testing.T) {
	code, out, errOut := runCmd(t, "", "verify", "--help")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"--jwks", "--issuer", "--audience", "--no-claims", "--summary", "any issuer", "exp is still", "payload_base64url"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

// TestVerifyRunAllocs checks that a token, valid or not, seen for the
// first time or again, costs no allocation once the buffers are warm, with
// output and in --summary mode.
func TestVerifyRunAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	f := newFixture(t, engine.HS256, "k1")
	plain, cached := testVerifiers(t, f)
	valid := []byte(f.token(t, map[string]any{"sub": "alice", "aud": []string{"a", "b"}}))
	expired := []byte(f.token(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	const runs = 200
	var fresh [2 * (runs + 1)][]byte // distinct tokens, each verified once per mode
	for i := range fresh {
		fresh[i] = []byte(f.token(t, map[string]any{"sub": fmt.Sprint("user", i), "aud": "a"}))
	}
	for _, summary := range []bool{false, true} {
		for _, noClaims := range []bool{false, true} {
			r := newVerifyRun(plain, cached, bufio.NewWriter(io.Discard), noClaims, summary, engine.DefaultMaxTokenSize)
			k := r.newWorker()
			var b bulkBatch
			one := func(tok []byte) {
				b.reset(0)
				k.verify(bytes.TrimSpace(tok), r.repeated(tok), &b)
			}
			for _, tok := range [][]byte{valid, expired, nil, append([]byte("Bearer "), valid...)} {
				one(tok) // warm the buffers, mark the token seen
				one(tok) // into the cache
				if n := testing.AllocsPerRun(runs, func() { one(tok) }); n != 0 {
					t.Errorf("summary=%v no-claims=%v %.20s: %v allocations per repeated token, want 0", summary, noClaims, tok, n)
				}
			}
			next := 0
			if !summary {
				next = runs + 1
			}
			if n := testing.AllocsPerRun(runs, func() { one(fresh[next]); next++ }); n != 0 {
				t.Errorf("summary=%v no-claims=%v: %v allocations per token seen for the first time, want 0", summary, noClaims, n)
			}
		}
	}
}

// TestVerifyLinesAllocsFlat checks that the whole pipeline (reading,
// batching, the workers, the ordered writer) allocates a fixed amount
// however many tokens it verifies: distinct tokens are not cached, and no
// buffer is allocated per token or per batch.
func TestVerifyLinesAllocsFlat(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	f := newFixture(t, engine.HS256, "k1")
	plain, cached := testVerifiers(t, f)
	var in bytes.Buffer
	const few, many = 1000, 12000
	for i := range many {
		fmt.Fprintf(&in, "%s\n", f.token(t, map[string]any{"sub": fmt.Sprint("user", i)}))
	}
	lines := bytes.SplitAfter(in.Bytes(), []byte("\n"))
	allocs := func(n int) float64 {
		input := bytes.Join(lines[:n], nil)
		return testing.AllocsPerRun(1, func() {
			r := newVerifyRun(plain, cached, bufio.NewWriter(io.Discard), false, true, engine.DefaultMaxTokenSize)
			if err := r.verifyLines(bytes.NewReader(input), 2); err != nil || r.valid != uint64(n) {
				t.Fatalf("%d tokens: %d valid, error %v", n, r.valid, err)
			}
		})
	}
	a, b := allocs(few), allocs(many)
	// The buffers of the batches grow to their size a bounded number of
	// times, whichever lines each batch gets; the old path made three
	// allocations per token.
	t.Logf("%v allocations for %d tokens, %v for %d", a, few, b, many)
	if b-a > 32 {
		t.Fatalf("%v allocations for %d tokens, %v for %d: want the same up to buffer growth", a, few, b, many)
	}
}

// TestVerifyLinesKeepOrder feeds many lines, a random mix of valid tokens
// (new and repeated), invalid ones, blank lines, overlong lines and pasted
// "Bearer " tokens, through the parallel pipeline with several worker
// counts, and checks that the Nth result is the verdict on the Nth line.
func TestVerifyLinesKeepOrder(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	other := newFixture(t, engine.HS256, "k1") // same kid, another secret
	plain, cached := testVerifiers(t, f)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	const lines = 3000
	var in strings.Builder
	want := make([]string, lines) // the sub of a valid token, else the reason
	var valids []string           // tokens already used, to repeat
	for i := range want {
		sub := fmt.Sprint("user", i)
		switch p := rng.IntN(100); {
		case p < 40:
			tok := f.token(t, map[string]any{"sub": sub})
			valids = append(valids, tok)
			in.WriteString(tok)
			want[i] = sub
		case p < 60 && len(valids) > 0:
			j := rng.IntN(len(valids))
			in.WriteString(" " + valids[j] + "\r")
			want[i] = subOf(t, valids[j])
		case p < 70:
			in.WriteString(f.token(t, map[string]any{"sub": sub, "exp": time.Now().Add(-time.Hour).Unix()}))
			want[i] = "expired"
		case p < 78:
			in.WriteString(other.token(t, map[string]any{"sub": sub}))
			want[i] = "bad_signature"
		case p < 86:
			in.WriteString([]string{"", "  ", "\t\r"}[rng.IntN(3)])
			want[i] = "empty"
		case p < 92:
			in.WriteString(sub)
			want[i] = "malformed"
		case p < 96:
			in.WriteString("Bearer " + f.token(t, map[string]any{"sub": sub}))
			want[i] = "malformed"
		default:
			in.WriteString(strings.Repeat("x", verifyLineMax+rng.IntN(2*verifyLineMax)))
			want[i] = "too_large"
		}
		in.WriteByte('\n')
	}
	for _, workers := range []int{1, 3, 8} {
		for _, summary := range []bool{false, true} {
			var out bytes.Buffer
			bw := bufio.NewWriter(&out)
			r := newVerifyRun(plain, cached, bw, false, summary, engine.DefaultMaxTokenSize)
			if err := r.verifyLines(shortReads(strings.NewReader(in.String()), rng), workers); err != nil {
				t.Fatal(err)
			}
			bw.Flush()
			var nValid uint64
			for _, w := range want {
				if !strings.HasPrefix(w, "user") {
					continue
				}
				nValid++
			}
			if r.valid != nValid || r.invalid != lines-nValid {
				t.Fatalf("%d workers, summary %v: %d valid and %d invalid, want %d and %d", workers, summary, r.valid, r.invalid, nValid, lines-nValid)
			}
			if summary {
				if out.Len() != 0 {
					t.Fatalf("--summary printed %q before the summary", out.String())
				}
				continue
			}
			rs := parseResults(t, out.String())
			if len(rs) != lines {
				t.Fatalf("%d workers: %d results for %d lines", workers, len(rs), lines)
			}
			for i, w := range want {
				got := rs[i].Reason
				if rs[i].Valid {
					got = fmt.Sprint(rs[i].Claims["sub"])
				}
				if got != w {
					t.Fatalf("%d workers, line %d: %q, want %q", workers, i+1, got, w)
				}
			}
		}
	}
}

// subOf returns the sub claim of token, read without verifying it.
func subOf(t *testing.T, token string) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Sub string }
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c.Sub
}

// shortReads returns a reader that sometimes returns short reads from r,
// as a pipe does, so that batches end at arbitrary points.
func shortReads(r io.Reader, rng *rand.Rand) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		if len(p) > 1 && rng.IntN(4) == 0 {
			p = p[:1+rng.IntN(len(p)-1)]
		}
		return r.Read(p)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestVerifyLinesMemoryFlat checks that the memory verify holds does not
// grow with the number of tokens: the heap in use after 10,000 distinct
// valid tokens and after 60,000 differ by little (caching every token
// would add about 1 KiB each).
func TestVerifyLinesMemoryFlat(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	plain, cached := testVerifiers(t, f)
	const first, last = 10000, 60000
	header := []byte(`{"alg":"HS256","kid":"k1"}`)
	exp := time.Now().Add(time.Hour).Unix()
	var heap [2]uint64
	var line []byte
	n := 0
	src := readerFunc(func(p []byte) (int, error) {
		if len(line) == 0 {
			if n == first || n == last {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				heap[min(n/last, 1)] = ms.HeapInuse
			}
			if n == last {
				return 0, io.EOF
			}
			tok, err := f.key.SignRaw(header, fmt.Appendf(nil, `{"sub":"user%d","exp":%d}`, n, exp))
			if err != nil {
				return 0, err
			}
			line = append([]byte(tok), '\n')
			n++
		}
		c := copy(p, line)
		line = line[c:]
		return c, nil
	})
	r := newVerifyRun(plain, cached, bufio.NewWriter(io.Discard), false, false, engine.DefaultMaxTokenSize)
	if err := r.verifyLines(src, 2); err != nil || r.valid != last {
		t.Fatalf("%d valid, error %v; want %d valid", r.valid, err, last)
	}
	t.Logf("heap in use after %d tokens: %d KiB; after %d: %d KiB", first, heap[0]>>10, last, heap[1]>>10)
	if grown := int64(heap[1]) - int64(heap[0]); grown > 4<<20 {
		t.Fatalf("the heap grew by %d KiB from %d to %d tokens: want it flat", grown>>10, first, last)
	}
}

// TestVerifyInteractiveAnswersEachLine checks that each token typed on a
// terminal (or written to a pipe that waits for the answer) is answered
// before the next line arrives.
func TestVerifyInteractiveAnswersEachLine(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- runVerify([]string{"--jwks", f.jwks}, inR, outW, io.Discard)
		outW.Close()
	}()
	answers := bufio.NewReader(outR)
	for i := range 5 {
		sub := fmt.Sprint("user", i)
		if _, err := inW.Write([]byte(f.token(t, map[string]any{"sub": sub}) + "\n")); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			line, _ := answers.ReadString('\n')
			got <- line
		}()
		select {
		case line := <-got:
			rs := parseResults(t, line)
			if len(rs) != 1 || !rs[0].Valid || rs[0].Claims["sub"] != sub {
				t.Fatalf("line %d: answer %q, want the verdict on %s", i+1, line, sub)
			}
		case <-time.After(time.Minute): // a hang guard, not a speed check
			t.Fatalf("line %d: no answer while the input waits for it", i+1)
		}
	}
	inW.Close()
	if c := <-code; c != exitOK {
		t.Fatalf("exit %d, want 0", c)
	}
}

// failingWriter accepts n bytes, then fails as a closed pipe does.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, io.ErrClosedPipe
	}
	w.n -= len(p)
	return len(p), nil
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestVerifyStopsWhenOutputFails checks that verify stops reading once its
// output is gone (jwtgate verify < big | head) and reports it.
func TestVerifyStopsWhenOutputFails(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	input := strings.Repeat("not-a-token\n", 400000)
	in := &countingReader{r: strings.NewReader(input)}
	var errOut bytes.Buffer
	code := runVerify([]string{"--jwks", f.jwks}, in, &failingWriter{n: 100 << 10}, &errOut)
	if code != exitFailure || !strings.Contains(errOut.String(), "writing the results") {
		t.Fatalf("exit %d, stderr %q: want 1 and the write error", code, errOut.String())
	}
	if in.n > len(input)/4 {
		t.Fatalf("read %d of %d bytes after the output failed: want it to stop", in.n, len(input))
	}
}

// TestVerifyLinesCachesOnlyRepeats checks that distinct tokens never enter
// the verified-token cache and that repeated ones are answered from it.
func TestVerifyLinesCachesOnlyRepeats(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	plain, cached := testVerifiers(t, f)
	const distinct, repeated, times = 2000, 10, 50
	var again []string
	for i := range repeated {
		again = append(again, f.token(t, map[string]any{"sub": fmt.Sprint("again", i)}))
	}
	var in strings.Builder
	for i := range distinct {
		in.WriteString(f.token(t, map[string]any{"sub": fmt.Sprint("user", i)}) + "\n")
		if i%(distinct/times) == 0 {
			for _, tok := range again {
				in.WriteString(tok + "\n")
			}
		}
	}
	r := newVerifyRun(plain, cached, bufio.NewWriter(io.Discard), false, true, engine.DefaultMaxTokenSize)
	if err := r.verifyLines(strings.NewReader(in.String()), 1); err != nil || r.valid != distinct+repeated*times || r.invalid != 0 {
		t.Fatalf("%d valid, %d invalid, error %v", r.valid, r.invalid, err)
	}
	// Each repeated token: verified uncached when first seen, inserted the
	// second time, a hit every time after, but for the rare time the
	// filter has forgotten it (a token in between took its slot: about one
	// time in 300 here), when it is verified uncached again.
	st := cached.Cache().Stats()
	if hits := uint64(repeated * (times - 2)); st.Inserts != repeated || st.Hits > hits || st.Hits < hits*9/10 {
		t.Fatalf("cache: %d inserts and %d hits, want %d and about %d", st.Inserts, st.Hits, repeated, hits)
	}
}

// testVerifiers returns verify's two verifiers for f's keys: without and
// with the cache, any issuer and audience.
func testVerifiers(t testing.TB, f *fixture) (plain, cached *engine.Verifier) {
	store, err := openJWKS(t.Context(), f.jwks, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	cfg := engine.Config{Keys: store, AnyIssuer: true, AnyAudience: true, CacheEntries: -1}
	if plain, err = engine.New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.CacheEntries = 0
	if cached, err = engine.New(cfg); err != nil {
		t.Fatal(err)
	}
	return plain, cached
}

// hs256Input returns n lines of HS256 tokens (distinct unless repeated)
// and the JWKS file that verifies them.
func hs256Input(b *testing.B, n int, repeated bool) ([]byte, string) {
	f := newFixture(b, engine.HS256, "k1")
	var buf bytes.Buffer
	one := f.token(b, map[string]any{"sub": "user", "iss": "https://idp", "aud": "api"})
	for i := range n {
		tok := one
		if !repeated {
			tok = f.token(b, map[string]any{"sub": fmt.Sprint("user", i), "iss": "https://idp", "aud": "api"})
		}
		buf.WriteString(tok + "\n")
	}
	return buf.Bytes(), f.jwks
}

// BenchmarkVerifySummary measures `jwtgate verify --summary` over 10,000
// HS256 tokens from standard input, whole command included (loading the
// JWKS file, building the verifier), and reports tokens/s.
func BenchmarkVerifySummary(b *testing.B) {
	for _, bc := range []struct {
		name     string
		repeated bool
	}{{"HS256-distinct", false}, {"HS256-repeated", true}} {
		b.Run(bc.name, func(b *testing.B) {
			const n = 10000
			input, jwks := hs256Input(b, n, bc.repeated)
			args := []string{"--summary", "--jwks", jwks, "--issuer", "https://idp", "--audience", "api"}
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				var out bytes.Buffer
				if code := runVerify(args, bytes.NewReader(input), &out, io.Discard); code != exitOK {
					b.Fatalf("exit %d: %s", code, out.String())
				}
				if out.String() != fmt.Sprintf(`{"valid":%d,"invalid":0}`+"\n", n) {
					b.Fatalf("output %q", out.String())
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "tokens/s")
		})
	}
}

// TestVerifyBulkGCPercent checks that a bulk run lets the heap grow to
// bulkGCPercent before collecting, unless GOGC is set, and restores the
// setting afterwards (the tests call runVerify in one process).
func TestVerifyBulkGCPercent(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	input := f.token(t, map[string]any{"sub": "alice"}) + "\n"
	defer debug.SetGCPercent(debug.SetGCPercent(123))
	for _, c := range []struct {
		gogc string
		want int
	}{{"", bulkGCPercent}, {"150", 123}} {
		t.Setenv("GOGC", c.gogc)
		during := -2
		stdin := readerFunc(func(p []byte) (int, error) {
			if during == -2 {
				during = debug.SetGCPercent(100)
				debug.SetGCPercent(during)
				return copy(p, input), nil
			}
			return 0, io.EOF
		})
		var out bytes.Buffer
		if code := runVerify([]string{"--summary", "--jwks", f.jwks}, stdin, &out, io.Discard); code != exitOK {
			t.Fatalf("GOGC=%q: exit %d: %s", c.gogc, code, out.String())
		}
		if during != c.want {
			t.Errorf("GOGC=%q: GC percent %d during the run, want %d", c.gogc, during, c.want)
		}
		if after := debug.SetGCPercent(123); after != 123 {
			t.Errorf("GOGC=%q: GC percent %d after the run, want it restored to 123", c.gogc, after)
		}
	}
}

// TestSeenFilter checks that the filter tells distinct tokens apart
// (signed ones, whose tails differ, and short ones, hashed whole) and knows
// a token seen before unless a later one took its slot.
func TestSeenFilter(t *testing.T) {
	s := newSeenFilter(seenSlots)
	f := newFixture(t, engine.HS256, "k1")
	var toks [][]byte
	for i := range 1000 {
		toks = append(toks, []byte(f.token(t, map[string]any{"sub": fmt.Sprint("user", i)})))
	}
	short := [][]byte{[]byte("a"), []byte("b"), []byte("ab")}
	for _, tok := range append(toks, short...) {
		if s.repeated(tok) {
			t.Fatalf("%.30s: repeated on first sight", tok)
		}
	}
	repeats := 0
	for _, tok := range append(toks, short...) {
		if s.repeated(tok) {
			repeats++
		}
	}
	// 1,003 tokens in 8,192 sets of two slots: two or three sets are picked
	// by three tokens, which then forget each other.
	if n := len(toks) + len(short); repeats < n-40 {
		t.Fatalf("%d of %d tokens known the second time", repeats, n)
	}
}

// TestVerifyLinesBatchClock checks that a bulk run reads the time once per
// batch, not per token, and that the verifiers judge every token at the
// time its batch was handed over: here an hour ago, when tokens that
// expired half an hour ago were still valid.
func TestVerifyLinesBatchClock(t *testing.T) {
	f := newFixture(t, engine.HS256, "k1")
	store, err := openJWKS(t.Context(), f.jwks, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	past := time.Now().Add(-time.Hour)
	clock := newBatchClock()
	reads := 0
	clock.now = func() time.Time { reads++; return past } // only the reading goroutine stamps
	cfg := engine.Config{Keys: store, AnyIssuer: true, AnyAudience: true, CacheEntries: -1, Clock: clock}
	plain, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.CacheEntries = 0
	cached, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var in strings.Builder
	for i := range n {
		in.WriteString(f.token(t, map[string]any{"sub": fmt.Sprint("user", i), "iat": past.Add(-time.Minute).Unix(), "exp": past.Add(30 * time.Minute).Unix()}) + "\n")
	}
	r := newVerifyRun(plain, cached, bufio.NewWriter(io.Discard), false, true, engine.DefaultMaxTokenSize)
	r.clock = clock
	if err := r.verifyLines(strings.NewReader(in.String()), 2); err != nil || r.valid != n {
		t.Fatalf("%d valid, %d invalid, error %v: want all %d valid an hour ago", r.valid, r.invalid, err, n)
	}
	if batches := (n + bulkBatchLines - 1) / bulkBatchLines; reads < 1 || reads > 2*batches {
		t.Fatalf("the clock was read %d times for %d tokens in about %d batches: want once per batch", reads, n, batches)
	}
	if got := clock.Now(); !got.Equal(time.Unix(0, past.UnixNano())) {
		t.Fatalf("clock at %v after the run, want the last stamp %v", got, past)
	}
}

// TestSeenFilterCollidingPair checks that two tokens whose hashes pick the
// same set, repeated in turn, are both found again instead of evicting each
// other forever (and so never reaching the cache).
func TestSeenFilterCollidingPair(t *testing.T) {
	s := newSeenFilter(seenSlots)
	f := newFixture(t, engine.HS256, "k1")
	bySet := map[uint64][]byte{}
	var a, b []byte
	for i := 0; a == nil; i++ { // about 130 tokens until two share a set
		tok := []byte(f.token(t, map[string]any{"sub": fmt.Sprint("user", i)}))
		_, set := s.hash(tok)
		if other, ok := bySet[set]; ok {
			a, b = other, tok
		}
		bySet[set] = tok
	}
	if s.repeated(a) || s.repeated(b) {
		t.Fatal("a token repeated on first sight")
	}
	for i := range 10 {
		if !s.repeated(a) || !s.repeated(b) {
			t.Fatalf("round %d: two tokens of one set evict each other", i)
		}
	}
}
