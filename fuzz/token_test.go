package fuzz

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

const (
	fuzzIssuer   = "https://issuer.fuzz.example"
	fuzzAudience = "api://fuzz"
	fuzzNow      = 1767225600 // 2026-01-01T00:00:00Z
	fuzzLeeway   = 30
)

// fuzzClock always reads fuzzNow.
type fuzzClock struct{}

func (fuzzClock) Now() time.Time { return time.Unix(fuzzNow, 0) }

// fuzzKeys is the engine.KeyLookup of the fuzz targets: by kid, or the one
// key of the token's algorithm. It ignores the issuer (there is one).
type fuzzKeys struct{ keys []*engine.Key }

func (s *fuzzKeys) LookupKey(_, kid []byte, alg engine.Alg) (*engine.Key, error) {
	if len(kid) > 0 {
		for _, k := range s.keys {
			if k.Kid() == string(kid) {
				return k, nil
			}
		}
		return nil, engine.ErrUnknownKid
	}
	var found *engine.Key
	for _, k := range s.keys {
		if k.Alg() == alg {
			if found != nil {
				return nil, engine.KidRequiredError(alg, alg)
			}
			found = k
		}
	}
	if found == nil {
		return nil, engine.ErrUnknownKid
	}
	return found, nil
}

// verifyWorld is the fixed setup every target shares.
type verifyWorld struct {
	signers map[string]*sign.Key // by kid
	resign  []*sign.Key          // cheap signers the second FuzzVerify input picks
	plain   *engine.Verifier     // cache off
	cached  *engine.Verifier     // cache on
	ref     *refVerifier
}

var (
	verifyWorldOnce sync.Once
	theVerifyWorld  *verifyWorld
	verifyWorldErr  error
)

func getVerifyWorld(tb testing.TB) *verifyWorld {
	tb.Helper()
	verifyWorldOnce.Do(func() { theVerifyWorld, verifyWorldErr = newVerifyWorld() })
	if verifyWorldErr != nil {
		tb.Fatal(verifyWorldErr)
	}
	return theVerifyWorld
}

func newVerifyWorld() (*verifyWorld, error) {
	data, err := os.ReadFile(filepath.Join("testdata", "keys.json"))
	if err != nil {
		return nil, err
	}
	var jwks []json.RawMessage // fixed test-only keys, not secret
	if err := json.Unmarshal(data, &jwks); err != nil {
		return nil, err
	}
	w := &verifyWorld{signers: map[string]*sign.Key{}, ref: &refVerifier{
		issuers: []string{fuzzIssuer}, audiences: []string{fuzzAudience},
		now: fuzzNow, leeway: fuzzLeeway, maxSize: engine.DefaultMaxTokenSize,
	}}
	lookup := &fuzzKeys{}
	for _, raw := range jwks {
		s, err := sign.ParsePrivateJWK(raw)
		if err != nil {
			return nil, err
		}
		k, err := s.EngineKey()
		if err != nil {
			return nil, err
		}
		w.signers[s.Kid] = s
		lookup.keys = append(lookup.keys, k)
		w.ref.keys = append(w.ref.keys, refKey{kid: s.Kid, alg: s.Alg.String(), pub: s.Public()})
	}
	for _, kid := range []string{"hs", "hs5", "ed", "es"} {
		if w.signers[kid] == nil {
			return nil, fmt.Errorf("testdata/keys.json lacks kid %q", kid)
		}
		w.resign = append(w.resign, w.signers[kid])
	}
	cfg := engine.Config{
		Keys:         lookup,
		Issuers:      []string{fuzzIssuer},
		Audiences:    []string{fuzzAudience},
		Leeway:       fuzzLeeway * time.Second,
		Clock:        fuzzClock{},
		CacheEntries: -1,
	}
	if w.plain, err = engine.New(cfg); err != nil {
		return nil, err
	}
	cfg.CacheEntries = 1024
	if w.cached, err = engine.New(cfg); err != nil {
		return nil, err
	}
	return w, nil
}

// resignToken replaces the signature of token (everything after its second
// dot, or nothing if it has one dot) with a valid one by signer.
func resignToken(token []byte, signer *sign.Key) []byte {
	dot1 := bytes.IndexByte(token, '.')
	if dot1 < 0 {
		return token
	}
	input := token
	if dot2 := bytes.IndexByte(token[dot1+1:], '.'); dot2 >= 0 {
		input = token[:dot1+1+dot2]
	}
	sig, err := signer.SignInput(input)
	if err != nil {
		panic(err)
	}
	out := append(append([]byte{}, input...), '.')
	return base64.RawURLEncoding.AppendEncode(out, sig)
}

func FuzzVerify(f *testing.F) {
	w := getVerifyWorld(f)
	f.Fuzz(func(t *testing.T, token []byte, resign uint8) {
		if resign != 0 {
			token = resignToken(token, w.resign[int(resign-1)%len(w.resign)])
		}
		checkToken(t, w, token)
	})
}

// checkToken compares jwtgate's answers for token with the reference's.
func checkToken(t *testing.T, w *verifyWorld, token []byte) {
	ref := w.ref.verify(string(token), true)
	for _, v := range []*engine.Verifier{w.plain, w.cached} {
		var res engine.Token
		for round := range 2 { // the second round meets the caches the first filled
			err := v.Verify(token, &res)
			checkError(t, err)
			if (err == nil) != (ref.err == nil) {
				t.Fatalf("round %d: jwtgate: %v; reference: %v\ntoken %q", round, err, ref.err, token)
			}
			if bad := errors.Is(err, engine.ErrBadSignature); bad != (ref.sigDone && !ref.sigOK) {
				t.Fatalf("round %d: signature verdicts differ: jwtgate %v; reference checked=%v ok=%v (%v)\ntoken %q",
					round, err, ref.sigDone, ref.sigOK, ref.err, token)
			}
			if err == nil {
				compareAccepted(t, &res, &ref)
			}
		}
	}
	refSig := w.ref.verify(string(token), false)
	var res engine.Token
	err := w.plain.VerifySignature(token, &res)
	checkError(t, err)
	if (err == nil) != (refSig.err == nil) {
		t.Fatalf("signature only: jwtgate: %v; reference: %v\ntoken %q", err, refSig.err, token)
	}
	if bad := errors.Is(err, engine.ErrBadSignature); bad != (refSig.sigDone && !refSig.sigOK) {
		t.Fatalf("signature only: verdicts differ: jwtgate %v; reference checked=%v ok=%v\ntoken %q", err, refSig.sigDone, refSig.sigOK, token)
	}
	if err == nil && !bytes.Equal(res.Payload(), refSig.payload) {
		t.Fatalf("signature only: payload %q, reference %q", res.Payload(), refSig.payload)
	}
	_ = engine.ParseUnverified(token, &res) // must not panic
}

// checkError asserts that a failure is a typed *engine.Error.
func checkError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *engine.Error
	if !errors.As(err, &e) || e.Reason() == "" || e.Error() == "" {
		t.Fatalf("error %#v is not a described *engine.Error", err)
	}
	if c := e.OAuthCode(); c != engine.OAuthInvalidToken && c != engine.OAuthInsufficientScope {
		t.Fatalf("error %v has OAuth code %q", err, c)
	}
}

func compareAccepted(t *testing.T, res *engine.Token, ref *refResult) {
	t.Helper()
	h := &res.Header
	if h.Alg.String() != ref.header.alg || string(h.Kid) != ref.header.kid || h.HasKid != ref.header.hasKid {
		t.Fatalf("header alg=%v kid=%q(%v); reference %q %q(%v)", h.Alg, h.Kid, h.HasKid, ref.header.alg, ref.header.kid, ref.header.hasKid)
	}
	if res.Key() == nil || res.Key().Alg() != h.Alg {
		t.Fatalf("accepted token has key %v", res.Key())
	}
	compareClaims(t, &res.Claims, &ref.claims)
}

// compareClaims compares what jwtgate read from a payload with the
// reference's reading.
func compareClaims(t *testing.T, c *engine.Claims, ref *refClaims) {
	t.Helper()
	strEq := func(name string, got []byte, want *string) {
		if want == nil && got != nil || want != nil && string(got) != *want {
			t.Fatalf("claim %s = %q, reference %v", name, got, derefString(want))
		}
	}
	strEq("iss", c.Issuer, ref.iss)
	strEq("sub", c.Subject, ref.sub)
	strEq("jti", c.ID, ref.jti)
	if ref.scope == nil && len(c.Scope) != 0 || ref.scope != nil && string(c.Scope) != *ref.scope {
		t.Fatalf("scope = %q, reference %v", c.Scope, derefString(ref.scope))
	}
	var aud []string
	for _, a := range c.Audience {
		aud = append(aud, string(a))
	}
	if !slices.Equal(aud, ref.aud) && !(len(aud) == 0 && len(ref.aud) == 0) {
		t.Fatalf("aud = %q, reference %q", aud, ref.aud)
	}
	dateEq := func(name string, has bool, got int64, want *int64) {
		if has != (want != nil) {
			t.Fatalf("claim %s present=%v, reference %v", name, has, want != nil)
		}
		// Beyond 2^53 a NumericDate is not exact in either reading.
		if want != nil && got != *want && absInt64(*want) < 1<<53 {
			t.Fatalf("claim %s = %d, reference %d", name, got, *want)
		}
	}
	dateEq("exp", c.HasExpiresAt(), c.ExpiresAt, ref.exp)
	dateEq("nbf", c.HasNotBefore(), c.NotBefore, ref.nbf)
	dateEq("iat", c.HasIssuedAt(), c.IssuedAt, ref.iat)
	for name, raw := range ref.members {
		got, ok := c.Lookup(name)
		if !ok || !bytes.Equal(got, raw) {
			t.Fatalf("Lookup(%q) = %q, %v; reference %q", name, got, ok, raw)
		}
	}
}

func derefString(s *string) string {
	if s == nil {
		return "<absent>"
	}
	return fmt.Sprintf("%q", *s)
}

func absInt64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// The seed corpora.

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// verifySeed is one named corpus entry of FuzzVerify. want says what the test
// expects of it: "valid" or "hostile".
type verifySeed struct {
	name   string
	token  string
	resign uint8
	want   string
}

func seedB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// seedClaims returns a valid payload with extra members spliced in first.
func seedClaims(extra string) string {
	base := fmt.Sprintf(`"iss":%q,"sub":"user-42","aud":%q,"exp":%d,"iat":%d,"nbf":%d,"jti":"j-1","scope":"read write"`,
		fuzzIssuer, fuzzAudience, fuzzNow+3600, fuzzNow-60, fuzzNow-60)
	if extra == "" {
		return "{" + base + "}"
	}
	return "{" + extra + "," + base + "}"
}

// verifySeeds builds the FuzzVerify seeds: valid tokens for every key, the
// engine's hostile-input table rebuilt with the fixed keys, and
// header/payload pairs to re-sign.
func verifySeeds(tb testing.TB, w *verifyWorld) []verifySeed {
	tb.Helper()
	var out []verifySeed
	signRaw := func(kid, header, payload string) string {
		tok, err := w.signers[kid].SignRaw([]byte(header), []byte(payload))
		if err != nil {
			tb.Fatal(err)
		}
		return tok
	}
	hdr := func(kid, extra string) string {
		h := fmt.Sprintf(`{"alg":%q,"kid":%q,"typ":"JWT"`, w.signers[kid].Alg.String(), kid)
		if extra != "" {
			h += "," + extra
		}
		return h + "}"
	}
	valid := func(name, tok string) {
		out = append(out, verifySeed{name: "valid-" + name, token: tok, want: "valid"})
	}
	hostile := func(name, tok string) {
		out = append(out, verifySeed{name: "hostile-" + name, token: tok, want: "hostile"})
	}
	kids := []string{"rs", "ps", "es", "es5", "ed", "hs", "hs5"}

	for _, kid := range kids {
		alg := w.signers[kid].Alg.String()
		valid(kid+"-access", signRaw(kid, hdr(kid, ""), seedClaims(`"client_id":"c"`)))
		valid(kid+"-no-kid", signRaw(kid, fmt.Sprintf(`{"alg":%q}`, alg), seedClaims("")))
		valid(kid+"-empty-kid", signRaw(kid, fmt.Sprintf(`{"alg":%q,"kid":""}`, alg), seedClaims("")))
		valid(kid+"-escapes", signRaw(kid, hdr(kid, `"x5u":"ignored"`), seedClaims(`"name":"Zo\u00eb \"q\" \\ \/ \ud83d\ude00"`)))
		valid(kid+"-aud-list-scp", signRaw(kid, hdr(kid, ""),
			strings.Replace(seedClaims(`"scp":["a","b"]`), fmt.Sprintf(`"aud":%q`, fuzzAudience), fmt.Sprintf(`"aud":["x",%q]`, fuzzAudience), 1)))
		tok := signRaw(kid, hdr(kid, ""), seedClaims(""))
		h, p, s := splitToken3(tok)
		sig, _ := base64.RawURLEncoding.DecodeString(s)
		flipped := append([]byte{}, sig...)
		flipped[len(flipped)-1] ^= 1
		hostile(kid+"-flipped-signature", h+"."+p+"."+base64.RawURLEncoding.EncodeToString(flipped))
		hostile(kid+"-truncated-signature", h+"."+p+"."+base64.RawURLEncoding.EncodeToString(sig[:len(sig)-1]))
		hostile(kid+"-empty-signature", h+"."+p+".")
		hostile(kid+"-tampered-payload", h+"."+seedB64(seedClaims(`"admin":true`))+"."+s)
		hostile(kid+"-expired", signRaw(kid, hdr(kid, ""), strings.Replace(seedClaims(""), fmt.Sprint(fuzzNow+3600), fmt.Sprint(fuzzNow-3600), 1)))
	}

	// alg none, every spelling, with and without a signature.
	for _, name := range []string{"none", "None", "NONE", "nOnE", `\u006eone`} {
		h := fmt.Sprintf(`{"alg":"%s"}`, name)
		hostile("alg-"+name+"-unsigned", seedB64(h)+"."+seedB64(seedClaims(""))+".")
		hostile("alg-"+name+"-signed", signRaw("hs", h, seedClaims("")))
	}
	// HS256 keyed with the public keys, under their kids.
	for _, kid := range []string{"rs", "ps", "es", "ed"} {
		pub := w.signers[kid].Public()
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			tb.Fatal(err)
		}
		jwk, _ := json.Marshal(w.signers[kid].PublicJWK())
		for enc, secret := range map[string][]byte{"der": der, "jwk": jwk, "pem": seedPEM(der)} {
			k := &sign.Key{Alg: engine.HS256, Private: secret}
			tok, err := k.SignRaw([]byte(fmt.Sprintf(`{"alg":"HS256","kid":%q}`, kid)), []byte(seedClaims("")))
			if err != nil {
				tb.Fatal(err)
			}
			hostile(fmt.Sprintf("hs256-with-%s-public-key-%s", kid, enc), tok)
		}
	}
	// Header key material from the attacker.
	attacker := sign.MustGenerate(engine.EdDSA, "ed")
	attackerJWK, _ := json.Marshal(attacker.PublicJWK())
	for name, member := range map[string]string{
		"jwk": `"jwk":` + string(attackerJWK), "jku": `"jku":"http://127.0.0.1:1/jwks"`, "x5u": `"x5u":"http://127.0.0.1:1/c"`,
	} {
		tok, _ := attacker.SignRaw([]byte(hdr("ed", member)), []byte(seedClaims("")))
		hostile("embedded-"+name, tok)
	}
	for name, kid := range map[string]string{
		"traversal": "../../etc/passwd", "quotes": `ed\"x`, "nul": `ed\u0000`, "long": strings.Repeat("k", 5000),
	} {
		hostile("kid-"+name, signRaw("ed", fmt.Sprintf(`{"alg":"EdDSA","kid":"%s"}`, kid), seedClaims("")))
	}
	// ECDSA signatures out of range or DER-encoded.
	for _, kid := range []string{"es", "es5"} {
		tok := signRaw(kid, hdr(kid, ""), seedClaims(""))
		h, p, s := splitToken3(tok)
		sig, _ := base64.RawURLEncoding.DecodeString(s)
		hostile(kid+"-r-s-zero", h+"."+p+"."+base64.RawURLEncoding.EncodeToString(make([]byte, len(sig))))
		hostile(kid+"-r-s-ones", h+"."+p+"."+base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, len(sig))))
		hostile(kid+"-der", h+"."+p+"."+base64.RawURLEncoding.EncodeToString(seedDERSig(sig)))
	}
	// Encoding and structure.
	good := signRaw("hs", hdr("hs", ""), seedClaims(""))
	gh, gp, gs := splitToken3(good)
	for name, tok := range map[string]string{
		"padding": gh + "." + gp + "." + gs + "=", "space": gh + ". " + gp + "." + gs, "newline": gh + "." + gp + "\n." + gs,
		"non-ascii": gh + "." + gp + "é." + gs, "two-segments": gh + "." + gp, "four-segments": good + "." + gs,
		"five-segments": good + "." + gp + "." + gs, "plus-slash": strings.NewReplacer("-", "+", "_", "/").Replace(good),
		"empty": "", "dots": "..", "oversize": gh + "." + strings.Repeat("A", engine.DefaultMaxTokenSize) + "." + gs,
	} {
		hostile("encoding-"+name, tok)
	}
	for name, h := range map[string]string{
		"dup-alg": `{"alg":"HS256","kid":"hs","alg":"HS256"}`, "dup-alg-escaped": `{"alg":"HS256","kid":"hs","\u0061lg":"HS256"}`,
		"array": `["HS256"]`, "string": `"HS256"`, "not-json": `alg=HS256`, "crit-unknown": `{"alg":"HS256","kid":"hs","crit":["x"],"x":1}`,
		"crit-empty": `{"alg":"HS256","kid":"hs","crit":[]}`, "crit-b64": `{"alg":"HS256","kid":"hs","b64":true,"crit":["b64"]}`,
		"b64-false": `{"alg":"HS256","kid":"hs","b64":false}`, "cty-jwt": `{"alg":"HS256","kid":"hs","cty":"JWT"}`,
		"deep":     `{"alg":"HS256","kid":"hs","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
		"bad-utf8": "{\"alg\":\"HS256\",\"kid\":\"hs\",\"x\":\"\xff\"}",
	} {
		hostile("header-"+name, signRaw("hs", h, seedClaims("")))
	}
	for name, p := range map[string]string{
		"dup-exp": seedClaims(`"exp":1`), "dup-sub-escaped": seedClaims(`"\u0073ub":"admin"`), "array": `[1]`, "string": `"x"`,
		"not-json": `x=1`, "exp-string": strings.Replace(seedClaims(""), fmt.Sprintf(`"exp":%d`, fuzzNow+3600), `"exp":"soon"`, 1),
		"aud-number": strings.Replace(seedClaims(""), fmt.Sprintf(`"aud":%q`, fuzzAudience), `"aud":1`, 1),
		"iss-object": strings.Replace(seedClaims(""), fmt.Sprintf(`"iss":%q`, fuzzIssuer), `"iss":{}`, 1),
	} {
		hostile("payload-"+name, signRaw("hs", hdr("hs", ""), p))
	}
	// Header and payload pairs the target re-signs with each cheap key, so
	// mutations reach the claims checks behind a valid signature.
	for i, s := range w.resign {
		kid := s.Kid
		for name, p := range map[string]string{
			"valid": seedClaims(""), "dup-exp": seedClaims(`"exp":1`), "exp-string": `{"exp":"1"}`, "fraction": seedClaims(`"x":1.5e3`),
		} {
			want := "hostile"
			if name == "valid" || name == "fraction" {
				want = "valid"
			}
			out = append(out, verifySeed{name: fmt.Sprintf("resign-%s-%s", kid, name), token: seedB64(hdr(kid, "")) + "." + seedB64(p) + ".", resign: uint8(i + 1), want: want})
		}
	}
	for i := range out {
		out[i].name = seedFileName(out[i].name)
	}
	slices.SortFunc(out, func(a, b verifySeed) int { return strings.Compare(a.name, b.name) })
	return out
}

// seedFileName keeps letters, digits, '-' and '_' of name, for a portable file name.
func seedFileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

func splitToken3(tok string) (h, p, s string) {
	parts := strings.SplitN(tok, ".", 3)
	return parts[0], parts[1], parts[2]
}

func seedPEM(der []byte) []byte {
	return []byte("-----BEGIN PUBLIC KEY-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END PUBLIC KEY-----\n")
}

// seedDERSig re-encodes a P1363 r‖s signature as ASN.1 DER.
func seedDERSig(sig []byte) []byte {
	half := len(sig) / 2
	integer := func(b []byte) []byte {
		b = bytes.TrimLeft(b, "\x00")
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(integer(sig[:half]), integer(sig[half:])...)
	if len(body) >= 0x80 {
		return append([]byte{0x30, 0x81, byte(len(body))}, body...)
	}
	return append([]byte{0x30, byte(len(body))}, body...)
}

// corpusFile renders values in the Go fuzzing corpus format.
func corpusFile(values ...any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "uint8(%d)\n", v)
		default:
			panic(fmt.Sprintf("corpusFile: %T", v))
		}
	}
	return []byte(b.String())
}

// scannerSeeds are the decoded headers and payloads of the FuzzVerify seeds,
// for the scanner targets.
func scannerSeeds(seeds []verifySeed) (headers, payloads map[string][]byte) {
	headers, payloads = map[string][]byte{}, map[string][]byte{}
	for _, s := range seeds {
		parts := strings.Split(s.token, ".")
		if len(parts) < 2 {
			continue
		}
		if h, err := base64.RawURLEncoding.DecodeString(parts[0]); err == nil && len(h) > 0 {
			headers[s.name] = h
		}
		if p, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && len(p) > 0 {
			payloads[s.name] = p
		}
	}
	return headers, payloads
}

// TestSeedCorpus checks that the committed seed corpora hold every seed
// verifySeeds makes, and that the valid seeds verify and the hostile ones do
// not. With -write-seeds it rewrites them first.
func TestSeedCorpus(t *testing.T) {
	w := getVerifyWorld(t)
	seeds := verifySeeds(t, w)
	headers, payloads := scannerSeeds(seeds)
	dirs := map[string]map[string][]byte{
		"FuzzVerify":     {},
		"FuzzScanHeader": {},
		"FuzzScanClaims": {},
	}
	for _, s := range seeds {
		dirs["FuzzVerify"][s.name] = corpusFile([]byte(s.token), s.resign)
	}
	for name, h := range headers {
		dirs["FuzzScanHeader"][name] = corpusFile(h)
	}
	for name, p := range payloads {
		dirs["FuzzScanClaims"][name] = corpusFile(p)
	}
	for target, files := range dirs {
		dir := filepath.Join("testdata", "fuzz", target)
		if *writeSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name := range files {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s seed %s missing (run go test ./fuzz -run=TestSeedCorpus -write-seeds): %v", target, name, err)
				continue
			}
			if !bytes.HasPrefix(data, []byte("go test fuzz v1\n")) {
				t.Errorf("%s seed %s is not in the corpus format", target, name)
			}
		}
	}
	// The committed FuzzVerify seeds do what their names say.
	for _, s := range seeds {
		data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzVerify", s.name))
		if err != nil {
			continue
		}
		token, resign, err := parseVerifySeed(data)
		if err != nil {
			t.Errorf("seed %s: %v", s.name, err)
			continue
		}
		if resign != 0 {
			token = resignToken(token, w.resign[int(resign-1)%len(w.resign)])
		}
		var res engine.Token
		err = w.plain.Verify(token, &res)
		if (err == nil) != (s.want == "valid") {
			t.Errorf("seed %s (%s): Verify = %v", s.name, s.want, err)
		}
	}
}

// parseVerifySeed reads a FuzzVerify corpus file written by corpusFile.
func parseVerifySeed(data []byte) ([]byte, uint8, error) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		return nil, 0, fmt.Errorf("%d lines", len(lines))
	}
	var tok string
	if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"), "%q", &tok); err != nil {
		return nil, 0, err
	}
	var resign uint8
	if _, err := fmt.Sscanf(lines[2], "uint8(%d)", &resign); err != nil {
		return nil, 0, err
	}
	return []byte(tok), resign, nil
}
