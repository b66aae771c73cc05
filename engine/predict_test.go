package engine_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// predictedVerifier returns a verifier of f's issuer, with the token cache
// off, that has verified tok and so predicts the key for its header.
func predictedVerifier(tb testing.TB, f *fixture, tok string) *engine.Verifier {
	tb.Helper()
	v := f.newVerifier(tb)
	var res engine.Token
	if err := v.VerifyString(tok, &res); err != nil {
		tb.Fatalf("warming up: %v", err)
	}
	seg := []byte(tok[:strings.IndexByte(tok, '.')])
	if engine.PredictedKey(v, seg) == nil && useSHANI() {
		tb.Fatal("a verified HS256 header predicts no key")
	}
	return v
}

// newVerifier returns a fresh verifier with f's configuration: empty header
// cache, nothing predicted.
func (f *fixture) newVerifier(tb testing.TB) *engine.Verifier {
	tb.Helper()
	v, err := engine.New(engine.Config{
		Keys: f.lookup, Issuers: []string{testIssuer}, Audiences: []string{testAudience},
		Clock: f.clock, CacheEntries: -1,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// useSHANI reports whether HS256 keys get precomputed pads in this build,
// the condition for a predicted key.
func useSHANI() bool { return engine.HMACKernel() }

// verdict is what a verification says: the error, or the claims read.
func verdict(v *engine.Verifier, tok string) string {
	var res engine.Token
	if err := v.VerifyString(tok, &res); err != nil {
		return "error: " + err.Error()
	}
	c := &res.Claims
	return fmt.Sprintf("ok: iss=%q sub=%q aud=%q exp=%d scope=%q", c.Issuer, c.Subject, c.Audience, c.ExpiresAt, c.Scope)
}

// hostileSignatures returns tok with its signature replaced in the ways an
// attacker would: one bit flipped at either end, a character short, the
// MAC of another key, a signature of the wrong length, none at all.
func hostileSignatures(tb testing.TB, tok string, other *sign.Key) map[string]string {
	tb.Helper()
	dot := strings.LastIndexByte(tok, '.')
	input, sig := tok[:dot], tok[dot+1:]
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		tb.Fatal(err)
	}
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return input + "." + base64.RawURLEncoding.EncodeToString(b)
	}
	otherSig, err := other.SignInput([]byte(input))
	if err != nil {
		tb.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return map[string]string{
		"valid":       tok,
		"first bit":   flip(0),
		"last bit":    flip(len(raw) - 1),
		"short":       input + "." + sig[:len(sig)-1],
		"other key":   input + "." + enc(otherSig),
		"31 bytes":    input + "." + enc(raw[:31]),
		"33 bytes":    input + "." + enc(append(bytes.Clone(raw), 0)),
		"empty":       input + ".",
		"payload bit": input[:dot-1] + string(input[dot-1]^1) + "." + sig,
	}
}

// TestVerifyPredictedKeyBoundaries checks that a verifier whose header
// cache predicts the key, and so computes the HMAC beside the parse, gives
// exactly the verdict of a fresh one for every signing input length across
// four SHA-256 block boundaries (the padding needing one more block from 56
// bytes into a block on), valid and with hostile signatures.
func TestVerifyPredictedKeyBoundaries(t *testing.T) {
	f := newFixture(t, engine.HS256, nil)
	other := sign.MustGenerate(engine.HS256, f.signer.Kid)
	base := f.token(t, accessClaims())
	warm := predictedVerifier(t, f, base)
	prefix := len(base[:strings.LastIndexByte(base, '.')])
	lengths := map[int]bool{}
	for pad := 0; pad < 200; pad++ {
		claims := accessClaims()
		claims["pad"] = strings.Repeat("p", pad)
		tok := f.token(t, claims)
		input := len(tok[:strings.LastIndexByte(tok, '.')])
		lengths[input%64] = true
		for name, hostile := range hostileSignatures(t, tok, other) {
			want := verdict(f.newVerifier(t), hostile)
			if got := verdict(warm, hostile); got != want {
				t.Fatalf("pad %d (%d-byte signing input), %s: predicted %s, fresh %s", pad, input, name, got, want)
			}
			if name == "valid" && !strings.HasPrefix(want, "ok") {
				t.Fatalf("pad %d: the valid token is refused: %s", pad, want)
			}
		}
	}
	// An unpadded base64url segment is never 1 character past a multiple
	// of 4 long, so the signing inputs reach 48 of the 64 offsets.
	if len(lengths) != 48 {
		t.Fatalf("the signing inputs (from %d bytes) cover %d of the 64 offsets in a block, want 48", prefix, len(lengths))
	}
}

// TestVerifyPredictedKeyReplaced checks that a predicted key is only a
// guess: when the lookup answers with another key under the same kid (a
// rotated secret, another issuer's key), that key decides, whichever key
// the header cache predicted.
func TestVerifyPredictedKeyReplaced(t *testing.T) {
	f := newFixture(t, engine.HS256, nil)
	keyA, keyB, tokA, tokB := twoSecretsOneHeader(t, f)
	sameA, err := f.signer.EngineKey() // another *Key with A's secret
	if err != nil {
		t.Fatal(err)
	}
	if tokA[:strings.IndexByte(tokA, '.')] != tokB[:strings.IndexByte(tokB, '.')] {
		t.Fatal("the two keys' tokens have different headers; the test needs one")
	}
	v := predictedVerifier(t, f, tokA)
	steps := []struct {
		key          *engine.Key
		tok          string
		wantBadSig   bool
		wantPredicts *engine.Key // after the step, when the kernel is there
	}{
		{keyA, tokA, false, keyA},
		{keyB, tokA, true, keyA}, // predicted A, the lookup says B: refused
		{keyB, tokB, false, keyB},
		{keyB, tokB, false, keyB},
		{keyA, tokB, true, keyB},
		{sameA, tokA, false, sameA},
		{keyA, tokA, false, keyA},
	}
	seg := []byte(tokA[:strings.IndexByte(tokA, '.')])
	for i, s := range steps {
		f.keys().keys = []*engine.Key{s.key}
		var res engine.Token
		err := v.VerifyString(s.tok, &res)
		if s.wantBadSig {
			if !errors.Is(err, engine.ErrBadSignature) {
				t.Fatalf("step %d: %v, want ErrBadSignature", i, err)
			}
		} else if err != nil {
			t.Fatalf("step %d: %v", i, err)
		} else if res.Key() != s.key {
			t.Fatalf("step %d: verified by %p, want %p", i, res.Key(), s.key)
		}
		if got := engine.PredictedKey(v, seg); useSHANI() && got != s.wantPredicts {
			t.Fatalf("step %d: predicts %p, want %p", i, got, s.wantPredicts)
		}
	}
	keyA.Retire()
	f.keys().keys = []*engine.Key{keyA}
	if got := engine.PredictedKey(v, seg); got != nil {
		t.Fatalf("a retired key is still predicted")
	}
	if got, want := verdict(v, tokA), verdict(f.newVerifier(t), tokA); got != want {
		t.Fatalf("with the predicted key retired: %s, fresh %s", got, want)
	}
}

// FuzzVerifyPredicted signs payload under the fixture's header, XORs
// tweak into the token from offset at, and checks that a verifier
// predicting the key gives the verdict of a fresh one.
func FuzzVerifyPredicted(f *testing.F) {
	fx := newFixture(f, engine.HS256, nil)
	base := fx.token(f, accessClaims())
	warm := predictedVerifier(f, fx, base)
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(base, ".")[1])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload, []byte{}, uint16(0))
	f.Add(payload, []byte{1}, uint16(len(base)-1))
	f.Add(payload, []byte{0x40}, uint16(len(base)/2))
	f.Add([]byte(`{"iss":"https://issuer.example","aud":"api://gateway","exp":1e10}`), []byte{}, uint16(0))
	header := base[:strings.IndexByte(base, '.')]
	f.Fuzz(func(t *testing.T, payload, tweak []byte, at uint16) {
		input := header + "." + base64.RawURLEncoding.EncodeToString(payload)
		sig, err := fx.signer.SignInput([]byte(input))
		if err != nil {
			t.Fatal(err)
		}
		tok := []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
		for i, x := range tweak {
			if j := int(at) + i; j < len(tok) {
				tok[j] ^= x
			}
		}
		if got, want := verdict(warm, string(tok)), verdict(fx.newVerifier(t), string(tok)); got != want {
			t.Fatalf("token %q: predicted %s, fresh %s", tok, got, want)
		}
	})
}

// TestVerifyPredictionStopsWhenKeysShareAHeader: when genuine tokens under
// one header segment are verified by different keys in turn (tenants whose
// HS256 tokens carry the same header), the header stops predicting after a
// few mispredictions instead of costing every token two HMACs; a single
// rotation does not stop it. Verdicts are a fresh verifier's throughout.
func TestVerifyPredictionStopsWhenKeysShareAHeader(t *testing.T) {
	if !useSHANI() {
		t.Skip("no prediction without the SHA-NI kernel (purego or an older CPU): nothing to stop")
	}
	f := newFixture(t, engine.HS256, nil)
	keyA, keyB, tokA, tokB := twoSecretsOneHeader(t, f)
	seg := []byte(tokA[:strings.IndexByte(tokA, '.')])
	v := predictedVerifier(t, f, tokA)

	// One rotation: B replaces A; B is predicted from then on.
	f.keys().keys = []*engine.Key{keyB}
	if got := verdict(v, tokB); !strings.HasPrefix(got, "ok") {
		t.Fatalf("after the rotation: %s", got)
	}
	if got := engine.PredictedKey(v, seg); got != keyB {
		t.Fatalf("after one rotation the header predicts %p, want B %p", got, keyB)
	}

	// Now the keys alternate, as two tenants' would.
	for i := range 2 * 8 {
		k, tok := keyA, tokA
		if i%2 == 1 {
			k, tok = keyB, tokB
		}
		f.keys().keys = []*engine.Key{k}
		if got := verdict(v, tok); !strings.HasPrefix(got, "ok") {
			t.Fatalf("alternation %d: %s", i, got)
		}
	}
	if got := engine.PredictedKey(v, seg); got != nil {
		t.Fatalf("after the keys alternated 16 times the header still predicts %p", got)
	}
	for _, k := range []*engine.Key{keyA, keyB} {
		f.keys().keys = []*engine.Key{k}
		for _, tok := range []string{tokA, tokB} {
			if got, want := verdict(v, tok), verdict(f.newVerifier(t), tok); got != want {
				t.Fatalf("no longer predicting: %s, fresh %s", got, want)
			}
		}
	}
}

// twoSecretsOneHeader returns f's key (A) and another HS256 key (B) under
// the same kid, and a token signed with each: their header segments are
// the same, so the header cache predicts one key for both.
func twoSecretsOneHeader(t *testing.T, f *fixture) (keyA, keyB *engine.Key, tokA, tokB string) {
	t.Helper()
	b := sign.MustGenerate(engine.HS256, f.signer.Kid)
	keyB, err := b.EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	tokB, err = b.Sign(accessClaims())
	if err != nil {
		t.Fatal(err)
	}
	return f.key, keyB, f.token(t, accessClaims()), tokB
}
