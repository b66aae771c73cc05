package authz

import (
	"net/textproto"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
	"github.com/jwtgate/jwtgate/internal/sign"
)

const (
	testIssuer   = "https://issuer.example"
	otherIssuer  = "https://other.example"
	testAudience = "api://gateway"
)

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// keyList is a KeyLookup over fixed keys, by kid.
type keyList []*engine.Key

func (l keyList) LookupKey(iss, kid []byte, alg engine.Alg) (*engine.Key, error) {
	for _, k := range l {
		if k.Kid() == string(kid) {
			return k, nil
		}
	}
	return nil, engine.ErrUnknownKid
}

// fixture verifies HS256 tokens of testIssuer and otherIssuer for
// testAudience at epoch.
type fixture struct {
	key *sign.Key
	v   *Engine
}

var testKey = sign.MustGenerate(engine.HS256, "k1")

func newFixture(tb testing.TB, cache bool) *fixture {
	tb.Helper()
	ek, err := testKey.EngineKey()
	if err != nil {
		tb.Fatal(err)
	}
	cfg := engine.Config{
		Keys:      keyList{ek},
		Issuers:   []string{testIssuer, otherIssuer},
		Audiences: []string{testAudience},
		Clock:     clocktest.New(epoch),
	}
	if !cache {
		cfg.CacheEntries = -1
	}
	v, err := engine.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{key: testKey, v: &Engine{Verifier: v}}
}

// claims returns a valid access token's claims, changed by mods.
func claims(mods ...func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":   testIssuer,
		"sub":   "alice",
		"aud":   testAudience,
		"iat":   epoch.Unix() - 60,
		"exp":   epoch.Unix() + 3600,
		"scope": "read write",
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func (f *fixture) token(tb testing.TB, mods ...func(map[string]any)) string {
	tb.Helper()
	tok, err := f.key.Sign(claims(mods...))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// headers is a HeaderSource over a map of canonical names.
type headers map[string][]string

func (h headers) AppendValues(dst [][]byte, name string) [][]byte {
	for _, v := range h[textproto.CanonicalMIMEHeaderKey(name)] {
		dst = append(dst, []byte(v))
	}
	return dst
}

// hdr builds headers from "Name: value" pairs.
func hdr(pairs ...string) headers {
	h := headers{}
	for i := 0; i+1 < len(pairs); i += 2 {
		k := textproto.CanonicalMIMEHeaderKey(pairs[i])
		h[k] = append(h[k], pairs[i+1])
	}
	return h
}

// byteHeaders is a HeaderSource that allocates nothing: its values are
// kept as byte slices.
type byteHeaders struct {
	names [][]byte
	vals  [][]byte
}

func (h *byteHeaders) AppendValues(dst [][]byte, name string) [][]byte {
	for i, n := range h.names {
		if string(n) == name {
			dst = append(dst, h.vals[i])
		}
	}
	return dst
}

func (h *byteHeaders) add(name, value string) {
	h.names = append(h.names, []byte(textproto.CanonicalMIMEHeaderKey(name)))
	h.vals = append(h.vals, []byte(value))
}

func mustCompile(tb testing.TB, cfg *Config) *Policy {
	tb.Helper()
	p, err := Compile(cfg, Options{Issuers: []string{testIssuer, otherIssuer}})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// scanned returns a token whose claims are payload, parsed but not verified
// (for tests of the conditions alone).
func scanned(tb testing.TB, payload string) *engine.Token {
	tb.Helper()
	t := new(engine.Token)
	if err := engine.ScanClaims([]byte(payload), t); err != nil {
		tb.Fatalf("%s: %v", payload, err)
	}
	return t
}

func req(method, host, path string, h HeaderSource) *Request {
	r := &Request{Method: []byte(method), Host: []byte(host), Headers: h}
	if path != "" {
		r.Path = []byte(path)
	}
	return r
}
